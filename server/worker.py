"""The rq worker, running every job inside the app context."""

from rq import Worker
from rq.serializers import JSONSerializer

from . import jobs
from .extensions import db


class AppWorker(Worker):
    """A worker whose work horses run jobs with the app's context pushed."""

    app = None

    def perform_job(self, job, queue, execution):
        with self.app.app_context():
            # The horse is a fork: pooled connections belong to the parent.
            db.engine.dispose(close=False)
            try:
                return super().perform_job(job, queue, execution)
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
    worker = AppWorker(queues, connection=connection, serializer=JSONSerializer)
    worker.app = app
    return worker.work(burst=burst, with_scheduler=True)
