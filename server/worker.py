"""The rq worker, running every job inside the app context, and outliving Redis."""

import contextlib
import ctypes
import gc
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time

from redis.exceptions import ConnectionError as RedisDown
from redis.exceptions import TimeoutError as RedisSlow
from rq import Queue, SimpleWorker, Worker
from rq.exceptions import InvalidJobOperation, NoSuchJobError, StopRequested
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from . import jobs
from .bulletins.jobs import draft_last_month
from .cases.services import escalate
from .evidence.jobs import requeue
from .extensions import db
from .processes import ended

log = logging.getLogger(__name__)
LONGEST_PAUSE = 30  # seconds between tries while Redis is away
PR_SET_PDEATHSIG = 1  # prctl(2)


class AppWorker(SimpleWorker):
    """A worker that runs each job itself, with the app's context pushed.

    rq's default worker forks a work horse for every job. Measured with
    bench/load_bench.py, a photo's job cost 0.3 s of CPU that way and 0.2 s here: a fork
    copies each page its job touches (reference counts are writes), and what a process
    learns (SQLAlchemy's compiled statements, its database connection) dies with each
    horse. A worker process that dies in a job (the OOM killer, a crash in a decoder) is
    started again by ``run_many`` or systemd, and the job it held is retried at once by
    the next sweep of this host (``retry_orphans``)."""

    app = None

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        """How long a job counts as running after its worker's last heartbeat: three
        beats (90 s by default), as for rq's forking worker. rq's SimpleWorker sends none
        while a job runs and so keeps the job "started" for its whole timeout plus a
        minute (31 minutes for media): a worker host that died and never came back held
        its photos that long. Here a thread beats (``Heartbeat``), and any worker's sweep
        retries the job of a dead one within about this time plus SWEEP_SECONDS."""
        return int(self.job_monitoring_interval * 3)

    def run_maintenance_tasks(self):
        """rq's own clean-up, then Mingcha's sweeper: evidence that could not be queued
        (Redis was down) or whose job was lost is queued again."""
        super().run_maintenance_tasks()
        sweep(self.app)

    def perform_job(self, job, queue, execution):
        with self.app.app_context(), Heartbeat(self, job, execution):
            try:
                return super().perform_job(job, queue, execution)
            finally:
                db.session.remove()


class Heartbeat(threading.Thread):
    """While a job runs in the worker's own thread: the worker's, the job's and its
    execution's heartbeats every ``job_monitoring_interval`` seconds, as rq's forking
    worker sends them while it waits for its work horse."""

    def __init__(self, worker: AppWorker, job, execution):
        super().__init__(name="rq-heartbeat", daemon=True)
        self.worker, self.job, self.execution = worker, job, execution
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(self.worker.job_monitoring_interval):
            try:
                self.worker.maintain_heartbeats(self.job, self.execution)
            except Exception:  # Redis away: the job goes on; the next beat tries again
                log.warning("a job's heartbeat failed", exc_info=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.join()


def retry_orphans(connection) -> int:
    """Retry at once (or fail, when no retry is left) the jobs that dead worker processes
    of this host were running, and forget those workers; how many jobs. Without it a
    restarted host's jobs would wait for three missed heartbeats (``AppWorker``). Worker
    processes are told apart by host name and pid: every host needs a name of its own."""
    host, retried = socket.gethostname(), 0
    for worker in Worker.all(connection=connection, serializer=JSONSerializer):
        if worker.hostname != host or not worker.pid or not ended(worker.pid):
            continue
        execution = worker.execution
        try:
            job = execution and Job.fetch(execution.job_id, connection=connection,
                                          serializer=JSONSerializer)
        except NoSuchJobError:  # expired meanwhile
            job = None
        if job and job.get_status(refresh=False) == JobStatus.STARTED:
            log.warning("worker %s (pid %s) died running %s: retried or failed now",
                        worker.name, worker.pid, job.id)
            queue = Queue(job.origin, connection=connection, serializer=JSONSerializer)
            worker.handle_job_failure(job, queue, exc_string="its worker process died",
                                      execution=execution)
            if job.get_status() == JobStatus.SCHEDULED:
                # Its process died, not the job: no retry interval to wait for, nor the
                # scheduler (it may have died with that process, holding its lock).
                with contextlib.suppress(InvalidJobOperation):
                    queue.scheduled_job_registry.requeue(job)
            retried += 1
        worker.register_death()
    return retried


def sweep(app):
    """Every few minutes on every worker, and when it starts: retry the jobs of this
    host's dead worker processes, queue what waits, mark cases gone overdue (a case is
    marked once; several workers at once skip each other's rows), and draft last month's
    bulletin if nobody has."""
    with app.app_context():
        try:
            connection = jobs.connection()
            if connection is not None:
                retry_orphans(connection)
            requeue()
            escalate()
            draft_last_month()
            db.session.commit()
        except (RedisDown, StopRequested):
            # Redis is away: the worker waits for it (run). SIGTERM came during the sweep
            # (rq's handler raises this when no job runs): the worker stops.
            raise
        except Exception:  # another worker's sweep at the same moment, say: next time
            log.exception("the sweep failed; it runs again in %s s", app.config["SWEEP_SECONDS"])
            db.session.rollback()
        finally:
            db.session.remove()


def run(app, queue_names=jobs.QUEUES, burst: bool = False) -> bool:
    """Work the named queues until stopped (or until they are empty, with ``burst``).

    rq's worker ends when Redis goes away (while it starts, or while it waits for a
    job's process); this one waits and starts again, so an outage of Redis does not
    need a person, or a supervisor that gives up after a few quick restarts. Jobs lost
    meanwhile are queued again by the sweep.
    """
    with app.app_context():
        connection = jobs.connection()
        if connection is None:
            raise RuntimeError("REDIS_URL is unset: there is nothing for a worker to do; "
                               "jobs run in-process")
        queues = [jobs.queue(name) for name in queue_names]
    gc.freeze()  # what start-up made lives as long as the process: the collector skips it
    try:
        return _work(app, queues, connection, burst)
    except StopRequested:  # SIGTERM in a sweep, or while waiting for Redis: stop all the same
        log.info("worker stopped")
        return False


def _work(app, queues, connection, burst: bool) -> bool:
    pause = 1
    while True:
        try:
            # An idle rq worker waits for a job up to worker_ttl - 15 s (405 s by default)
            # before it looks at anything else: the sweep, and taking over the scheduler
            # (which moves retried jobs back to their queue) from a worker that died.
            # Waiting SWEEP_SECONDS at most, an idle worker does both on time.
            sweep_seconds = app.config["SWEEP_SECONDS"]
            worker = AppWorker(queues, connection=connection, serializer=JSONSerializer,
                               maintenance_interval=sweep_seconds,
                               worker_ttl=sweep_seconds + 15,
                               job_monitoring_interval=app.config["JOB_HEARTBEAT_SECONDS"])
            worker.app, pause = app, 1  # Redis answered
            sweep(app)  # at start too: a restarted worker picks up what waited
            return worker.work(burst=burst, with_scheduler=True)
        except (RedisDown, RedisSlow):
            log.warning("redis does not answer; the worker starts again in %s s", pause)
            time.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)


def processes_by_default(app) -> int:
    """One worker process per core this process may run on, and one more. A media job is
    CPU-bound (Pillow, ffmpeg), but about a sixth of a worker's time goes to waiting: for
    the disk's fsync of the derived files, the database's commit, Redis between jobs. With
    fifty phones (bench/load_bench.py, 2 cores) two processes left 2.6 s of the cores
    idle and used 1.70 of them once the uploads were in; three left 1.5 s and used 1.80.
    One on SQLite, which has one writer at a time: more processes would only wait for
    each other."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
    return cores + 1


def run_many(app, queue_names=jobs.QUEUES, processes: int = 1, burst: bool = False):
    """``processes`` workers side by side, each a child process running ``run``.

    A child that dies is started again a second later (with ``burst``, one that ended
    is done). SIGTERM or SIGINT to this process reaches each child as SIGTERM: the first
    is rq's warm shutdown (each finishes the job it holds), a second its cold one. The
    children have their own process group, so a terminal's Ctrl-C reaches them only
    through here, once; under systemd use ``KillMode=mixed``."""
    if processes <= 1:
        return run(app, queue_names, burst)
    with app.app_context():
        db.engine.dispose()  # no connection of ours is inherited
    context = multiprocessing.get_context("fork")
    children: dict[int, multiprocessing.Process] = {}
    stopping = []

    def start(n: int):
        child = context.Process(target=_child, args=(app, queue_names, burst, os.getpid()),
                                name=f"mingcha-worker-{n}")
        child.start()
        children[n] = child

    def stop(signum, _frame):
        stopping.append(signum)
        for child in children.values():  # a second signal: rq's cold shutdown
            if child.is_alive():
                os.kill(child.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for n in range(processes):
        start(n)
    log.info("%s worker processes on the queues %s", processes, ", ".join(queue_names))
    while children:
        for n, child in list(children.items()):
            child.join(0.5 / len(children))
            if child.is_alive():
                continue
            del children[n]
            if not stopping and not (burst and child.exitcode == 0):
                log.warning("worker process %s ended (status %s); started again in 1 s",
                            n, child.exitcode)
                time.sleep(1)
                if not stopping:  # a signal may have come meanwhile
                    start(n)


def _child(app, queue_names, burst: bool, parent: int):
    os.setpgrp()  # signals come from the parent only
    _end_with_parent(parent)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # rq installs its own in work()
    run(app, queue_names, burst)


def _end_with_parent(parent: int):
    """Linux: SIGTERM (rq's warm shutdown) when the parent dies, killed -9 say, so that
    no worker is left behind unsupervised."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the parent's SIGTERM is the way
        return
    if os.getppid() != parent:  # it died before prctl
        os.kill(os.getpid(), signal.SIGTERM)
