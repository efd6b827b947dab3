"""Media jobs on the rq queue ``media``, job id ``media:<evidence_id>``.

The database is the source of truth: evidence waiting for its job has state
``processing``. If Redis is down when an upload completes, nothing is lost — the
sweeper (``manage.py requeue``, also run by workers) queues it later. A job checks the
state first, so running it twice changes nothing.
"""

import logging
import uuid
from datetime import timedelta

from redis.exceptions import RedisError

from . import jobs
from .extensions import db
from .models import Evidence, utcnow

log = logging.getLogger(__name__)
JOB_TIMEOUT = 30 * 60
STUCK_AFTER = timedelta(minutes=45)  # longer than any job may run


def job_id(evidence_id) -> str:
    return f"media:{evidence_id}"


def queue_processing(evidence_id) -> str:
    """Queue the media job of one piece of evidence; "waiting" when Redis is down."""
    try:
        return jobs.enqueue("media", process_evidence, str(evidence_id),
                            job_id=job_id(evidence_id), timeout=JOB_TIMEOUT)
    except RedisError:
        log.warning("redis is down: evidence %s waits for the sweeper", evidence_id)
        return "waiting"


def process_evidence(evidence_id: str):
    """Read the original, fill in media, derivatives and geofence; ready or failed."""
    from .media_pipeline import process

    evidence = db.session.get(Evidence, uuid.UUID(evidence_id))
    if evidence is None or evidence.state != "processing":
        return  # done before, or not uploaded yet
    process(evidence)
    db.session.commit()


def requeue() -> int:
    """Queue every evidence in ``processing`` whose job is not waiting or running."""
    queued = 0
    for evidence_id in db.session.scalars(db.select(Evidence.id).where(
            Evidence.state == "processing", Evidence.deleted_at.is_(None))):
        if queue_processing(evidence_id) == "queued":
            queued += 1
    return queued


def fail_stuck() -> int:
    """Evidence whose processing never ended (e.g. a job killed too often) is failed with
    a reason rather than left in ``processing``."""
    stuck = db.session.scalars(db.select(Evidence).where(
        Evidence.state == "processing", Evidence.uploaded_at < utcnow() - STUCK_AFTER * 4))
    count = 0
    for evidence in stuck:
        evidence.state, evidence.failure = "failed", "processing did not finish"
        count += 1
    db.session.commit()
    return count
