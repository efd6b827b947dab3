"""Background work: rq queues when REDIS_URL is set, the same functions in-process when not.

Jobs are module-level functions taking ids and plain values. Each carries a stable job id,
so the same work is never queued twice while it waits or runs.
"""

import logging

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

QUEUES = ("media", "bulletins", "default")
log = logging.getLogger(__name__)


def connection() -> Redis | None:
    """The app's Redis connection, or None in the embedded default."""
    url = current_app.config["REDIS_URL"]
    if not url:
        return None
    ext = current_app.extensions
    if "redis" not in ext:
        ext["redis"] = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
    return ext["redis"]


def queue(name: str) -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}; queues are {QUEUES}")
    return Queue(name, connection=connection(), serializer=JSONSerializer)


def redis_status() -> str:
    redis = connection()
    if redis is None:
        return "disabled"
    try:
        redis.ping()
        return "ok"
    except RedisError:
        log.warning("redis does not answer", exc_info=True)
        return "down"


def forget_dead_jobs(queue_name: str):
    """Move jobs whose worker died (no heartbeat) out of "started", so they can be
    queued again instead of counting as running forever."""
    q = queue(queue_name)
    q.started_job_registry.cleanup()


def status(job_id: str) -> str | None:
    """rq's status of a job ("queued", "started", "failed"…), None when rq has none."""
    try:
        job = Job.fetch(rq_job_id(job_id), connection=connection(), serializer=JSONSerializer)
    except NoSuchJobError:
        return None
    return job.get_status(refresh=False)


def rq_job_id(job_id: str) -> str:
    """rq (2.0 on) allows only letters, digits, ``_`` and ``-`` in ids: ``media:<id>``
    is kept in rq as ``media-<id>``."""
    return job_id.replace(":", "-")


def enqueue(queue_name: str, func, *args, job_id: str, timeout: int = 600,
            retries: int = 3) -> str:
    """Queue ``func(*args)`` once under ``job_id``; run it now when there is no Redis.

    Returns "queued", "already queued", "ran" or "failed" (in-process). Raises
    RedisError when Redis is configured but down: the caller keeps the work in the
    database and a sweeper queues it later.
    """
    if connection() is None:
        try:
            func(*args)
        except Exception:  # as a worker would: log it; the request that queued it goes on
            log.exception("in-process job %s failed", job_id)
            return "failed"
        return "ran"
    q = queue(queue_name)
    job_id = rq_job_id(job_id)
    try:
        job = Job.fetch(job_id, connection=q.connection, serializer=JSONSerializer)
        if job.get_status(refresh=False) in (JobStatus.QUEUED, JobStatus.STARTED,
                                             JobStatus.DEFERRED, JobStatus.SCHEDULED):
            return "already queued"
    except NoSuchJobError:
        pass
    intervals = current_app.config["JOB_RETRY_INTERVALS"]
    q.enqueue(func, *args, job_id=job_id, job_timeout=timeout,
              retry=Retry(max=retries, interval=intervals) if retries else None,
              result_ttl=3600, failure_ttl=7 * 86400)
    return "queued"

