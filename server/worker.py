"""The rq worker, running every job inside the app context, and outliving Redis."""

import logging
import time

from redis.exceptions import ConnectionError as RedisDown
from redis.exceptions import TimeoutError as RedisSlow
from rq import Worker
from rq.serializers import JSONSerializer

from . import jobs
from .bulletins.jobs import draft_last_month
from .cases.services import escalate
from .evidence.jobs import requeue
from .extensions import db

log = logging.getLogger(__name__)
LONGEST_PAUSE = 30  # seconds between tries while Redis is away


class AppWorker(Worker):
    """A worker whose work horses run jobs with the app's context pushed."""

    app = None

    def run_maintenance_tasks(self):
        """rq's own clean-up, then Mingcha's sweeper: evidence that could not be queued
        (Redis was down) or whose job was lost is queued again."""
        super().run_maintenance_tasks()
        sweep(self.app)

    def perform_job(self, job, queue, execution):
        with self.app.app_context():
            # The horse is a fork: pooled connections belong to the parent.
            db.engine.dispose(close=False)
            try:
                return super().perform_job(job, queue, execution)
            finally:
                db.session.remove()


def sweep(app):
    """Every few minutes on every worker: queue what waits, mark cases gone overdue (a
    case is marked once; several workers at once skip each other's rows), and draft last
    month's bulletin if nobody has."""
    with app.app_context():
        try:
            requeue()
            escalate()
            draft_last_month()
            db.session.commit()
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
    pause = 1
    while True:
        try:
            worker = AppWorker(queues, connection=connection, serializer=JSONSerializer,
                               maintenance_interval=app.config["SWEEP_SECONDS"])
            worker.app, pause = app, 1  # Redis answered
            sweep(app)  # at start too: a restarted worker picks up what waited
            return worker.work(burst=burst, with_scheduler=True)
        except (RedisDown, RedisSlow):
            log.warning("redis does not answer; the worker starts again in %s s", pause)
            time.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)
