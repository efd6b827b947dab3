"""The rq worker, running every job inside the app context."""

from rq import Worker
from rq.serializers import JSONSerializer

from . import jobs
from .evidence.jobs import requeue
from .extensions import db


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
    with app.app_context():
        try:
            requeue()
        finally:
            db.session.remove()


def run(app, queue_names=jobs.QUEUES, burst: bool = False) -> bool:
    """Work the named queues until stopped (or until they are empty, with ``burst``)."""
    with app.app_context():
        connection = jobs.connection()
        if connection is None:
            raise RuntimeError("REDIS_URL is unset: there is nothing for a worker to do; "
                               "jobs run in-process")
        queues = [jobs.queue(name) for name in queue_names]
    worker = AppWorker(queues, connection=connection, serializer=JSONSerializer,
                       maintenance_interval=app.config["SWEEP_SECONDS"])
    worker.app = app
    sweep(app)  # at start too: a restarted worker picks up what waited
    return worker.work(burst=burst, with_scheduler=True)
