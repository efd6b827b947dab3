"""Media jobs on the rq queue ``media``, job id ``media:<evidence_id>``.

The database is the source of truth: evidence waiting for its job has state
``processing``. If Redis is down when an upload completes, nothing is lost — the
sweeper (``manage.py requeue``, also run by workers) queues it later. A job checks the
state first, so running it twice changes nothing.
"""

import contextlib
import logging
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from redis.exceptions import RedisError

from .. import jobs
from ..extensions import db
from ..models import Evidence, Upload, utcnow
from .pipeline import SCRATCH, process

log = logging.getLogger(__name__)
JOB_TIMEOUT = 30 * 60
_PENDING = "media_jobs"  # the session's evidence ids to queue once their commit is done


def attach(evidence: Evidence, upload: Upload):
    """The creator's upload of this evidence is stored: process it once the commit is
    done (``queue_pending``)."""
    if evidence.storage_key is None:
        evidence.storage_key = upload.storage_key
        evidence.uploaded_at = utcnow()
        evidence.state = "processing"
        db.session.info.setdefault(_PENDING, set()).add(evidence.id)


def queue_pending():
    """After a commit: queue the media jobs it asked for. If Redis is down they wait in
    the database (state ``processing``) for the sweeper."""
    for evidence_id in db.session.info.pop(_PENDING, set()):
        queue_processing(evidence_id)


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
    began, cpu = time.perf_counter(), time.process_time()
    evidence = db.session.get(Evidence, uuid.UUID(evidence_id))
    if evidence is None or evidence.state != "processing":
        return  # done before, or not uploaded yet
    process(evidence)
    db.session.commit()
    # What capacity planning needs: this job's own CPU beside its wall time.
    log.info("media job %s: %s in %.3f s, %.3f s cpu", evidence_id, evidence.state,
             time.perf_counter() - began, time.process_time() - cpu)


def requeue() -> int:
    """The sweeper: queue evidence waiting in ``processing`` whose job was never queued
    (Redis was down) or was lost; fail it with a reason when every retry failed. First,
    files and records that missed each other are brought together, and the scratch
    folders of killed jobs removed."""
    _meet_stranded()
    _remove_stale_scratch()
    if jobs.connection() is None:  # the embedded default: try again, here and now
        waiting = db.session.scalars(db.select(Evidence.id).where(
            Evidence.state == "processing", Evidence.deleted_at.is_(None))).all()
        return sum(queue_processing(evidence_id) == "ran" for evidence_id in waiting)
    try:
        jobs.forget_dead_jobs("media")  # a killed worker's job: retried, or failed
        return sum(_sweep_one(evidence) for evidence in db.session.scalars(
            db.select(Evidence).where(Evidence.state == "processing",
                                      Evidence.deleted_at.is_(None))))
    except RedisError:
        log.warning("redis is down: nothing can be queued now")
        return 0
    finally:
        db.session.commit()


def _remove_stale_scratch():
    """A job killed in the middle leaves its copy of the original (up to 2 GiB) in a
    temporary folder; none lives longer than a job may run."""
    oldest = time.time() - JOB_TIMEOUT - 600
    for folder in Path(tempfile.gettempdir()).glob(SCRATCH + "*"):
        with contextlib.suppress(OSError):  # another worker removed it first
            if folder.is_dir() and folder.stat().st_mtime < oldest:
                shutil.rmtree(folder)


def _meet_stranded():
    """A file and its record that missed each other: the upload finished while the
    record's push was in flight, and each transaction looked before the other committed.
    Attach the file now; the sweep below queues the job."""
    stranded = db.session.execute(
        db.select(Evidence, Upload).join(Upload, (Upload.evidence_id == Evidence.id)
                                         & (Upload.user_id == Evidence.created_by))
        .where(Evidence.state == "awaiting_upload", Evidence.deleted_at.is_(None),
               Upload.state == "complete", Upload.sha256 == Evidence.sha256)).all()
    for evidence, upload in stranded:
        attach(evidence, upload)
    db.session.info.pop(_PENDING, None)  # the sweep queues them, once
    db.session.commit()


def _sweep_one(evidence: Evidence) -> int:
    state = jobs.status(job_id(evidence.id))
    if state == "failed":
        evidence.state = "failed"
        evidence.failure = "Processing failed on every attempt; see the worker's log."
        return 0
    if state in ("queued", "started", "deferred", "scheduled"):
        return 0
    return int(queue_processing(evidence.id) == "queued")
