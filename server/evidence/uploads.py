"""Resumable uploads: create, finish into write-once storage, record (for a browser),
terminate, purge. The bytes in progress are ``staging``'s; who may upload what, and whose
bytes meet which record, is ``ownership``'s.
"""

import hashlib
import uuid
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from media.storage import AlreadyExists, original_key
from media.storage_local import LocalStorage

from ..errors import Problem
from ..extensions import db
from ..models import Evidence, Rectification, Upload, utcnow
from . import ownership
from .jobs import attach
from .staging import file_sha256, forget, rewind, staging_path
from .storage import storage


def create(user, length: int, meta: dict) -> Upload:
    """A new upload, or one already complete when this user's same file is stored for the
    evidence; 409 when they stored another file for it."""
    evidence = ownership.authorise(user, meta, length)
    now = utcnow()
    expires = now + timedelta(seconds=current_app.config["UPLOAD_EXPIRES_SECONDS"])
    upload = Upload(id=uuid.uuid4(), evidence_id=meta["evidence_id"],
                    check_id=meta.get("check_id"), user_id=user.id, length=length, offset=0,
                    sha256=meta["sha256"], kind=meta["kind"], metadata_=meta["raw"],
                    expires_at=expires)
    stored = _stored_key(user, evidence, upload)
    if stored:
        upload.offset, upload.state, upload.completed_at = length, "complete", now
        upload.storage_key = stored
    # No staging file yet: the first bytes make it, on the web host that receives them.
    db.session.add(upload)
    db.session.flush()
    return upload


def _stored_key(user, evidence: Evidence | None, upload: Upload) -> str | None:
    """Where this very file is stored already for this user and evidence, if it is."""
    if evidence is not None and evidence.storage_key and evidence.sha256 == upload.sha256:
        return evidence.storage_key
    earlier = ownership.completed_uploads(user.id, [upload.evidence_id])[upload.evidence_id]
    if earlier is None:
        return None
    if (earlier.sha256, earlier.length) != (upload.sha256, upload.length):
        raise Problem(409, _("Different file"), _("You already uploaded another file for this "
                                                  "evidence; record new evidence instead."))
    return earlier.storage_key


def finish(upload: Upload) -> str:
    """The last byte arrived: check the whole file, keep it write-once under the
    uploader's key, meet the record if it is the uploader's. Returns "complete",
    "mismatch" (not the sha256 the phone named) or "taken" (other bytes hold the key);
    in the last two cases nothing is kept."""
    path = staging_path(upload.id)
    if file_sha256(upload) != upload.sha256:
        path.unlink(missing_ok=True)
        upload.state, upload.offset = "failed", 0
        return "mismatch"
    key = original_key(upload.evidence_id, upload.user_id)
    kept = _keep(path, key, upload.sha256)
    path.unlink(missing_ok=True)
    if not kept:
        upload.state, upload.offset = "failed", 0
        return "taken"
    _complete(upload, key)
    return "complete"


def recover(upload: Upload, have: int) -> str:
    """This host holds ``have`` bytes of an unfinished upload, fewer than its offset: its
    staging file is gone, or shorter (another web host, with its own UPLOAD_DIR, took
    the rest). "complete" when its verified bytes were stored already (a server died
    after storing them, before the commit): it meets its record. Else "rewound": the
    offset goes back to ``have`` and the phone sends the rest again here. "lost" when a
    request, on another host, holds the upload: it failed, the phone starts anew."""
    key = original_key(upload.evidence_id, upload.user_id)
    store = storage()
    if store.exists(key) and _stored_sha256(store, key) == upload.sha256:
        _complete(upload, key)
        return "complete"
    if rewind(upload, have):
        return "rewound"
    upload.state, upload.offset = "failed", 0
    return "lost"


def _complete(upload: Upload, key: str):
    """Its verified bytes are stored under ``key``: done, and met by the record if the
    record is the uploader's."""
    upload.offset, upload.state, upload.completed_at = upload.length, "complete", utcnow()
    upload.storage_key = key
    evidence = db.session.get(Evidence, upload.evidence_id)
    if ownership.claims(upload, evidence):
        attach(evidence, upload)


def _keep(path: Path, key: str, sha256: str) -> bool:
    """Store the verified staging file under ``key``; on local disk without copying it (a
    gigabyte written twice would halve the upload's speed). False when other bytes hold
    the key already."""
    store = storage()
    try:
        if not store.exists(key):
            if isinstance(store, LocalStorage):
                store.adopt(key, path)
            else:
                with open(path, "rb") as f:
                    store.save(key, f)
            return True
    except AlreadyExists:  # another request stored it just now
        pass
    return _stored_sha256(store, key) == sha256


def _stored_sha256(store, key: str) -> str:
    digest = hashlib.sha256()
    for block in store.stream(key):
        digest.update(block)
    return digest.hexdigest()


def record_upload(user, evidence_id) -> Evidence:
    """The evidence record of the user's own completed upload, made from its metadata for
    the rectification it names: a browser has no outbox to push the record from. It meets
    its file as a pushed record does; commit, then ``jobs.queue_pending()``. A second call
    answers the same record."""
    upload = _completed_upload(user, evidence_id)
    evidence = db.session.get(Evidence, upload.evidence_id)
    if evidence is None:
        evidence = _new_evidence(user, upload)
    elif not ownership.claims(upload, evidence):
        raise Problem(403, _("Not allowed"), _("This evidence is not yours to upload."))
    attach(evidence, upload)  # nothing when it has its file already
    db.session.flush()
    return evidence


def _completed_upload(user, evidence_id) -> Upload:
    """The user's own finished upload for ``evidence_id`` (a UUID or its text); 404."""
    try:
        evidence_id = uuid.UUID(str(evidence_id))
    except ValueError:
        upload = None
    else:
        upload = ownership.completed_uploads(user.id, [evidence_id])[evidence_id]
    if upload is None:
        raise Problem(404, _("Not found"), _("No such upload; create a new one."))
    return upload


def _new_evidence(user, upload: Upload) -> Evidence:
    """Evidence of the rectification the upload names, which must still be of a case of
    the user's unit (it may have been deleted since the upload began)."""
    if user.role != "unit":
        raise Problem(403, _("Not allowed"), _("Your role may not add evidence."))
    named = upload.metadata_.get("rectification_id")
    rect = db.session.get(Rectification, uuid.UUID(named)) if named else None
    ownership._own_rectification(user, rect)
    # The column's limit, as the push's schema has; PostgreSQL refuses NUL in text.
    filename = (upload.metadata_.get("filename") or "").replace("\x00", "")[:255] or None
    evidence = Evidence(id=upload.evidence_id, kind=upload.kind, sha256=upload.sha256,
                        size=upload.length, filename=filename, created_by=user.id,
                        rectification=rect, state="awaiting_upload", review_state="pending")
    db.session.add(evidence)
    return evidence


def terminate(upload: Upload):
    """Forget an upload. A stored original stays: originals are write-once."""
    forget(upload.id)
    db.session.delete(upload)


def purge_expired() -> int:
    """Remove unfinished uploads past their Upload-Expires, and finished ones that no
    record of their uploader claimed by then, with their bytes (a periodic job on the
    ``default`` queue). Safe to run twice."""
    now = utcnow()
    expired = db.session.scalars(db.select(Upload).where(
        Upload.state != "complete", Upload.expires_at < now)).all()
    unclaimed = db.session.scalars(db.select(Upload).where(
        Upload.state == "complete", Upload.completed_at < now - timedelta(
            seconds=current_app.config["UPLOAD_EXPIRES_SECONDS"]),
        ~db.select(Evidence.id).where(Evidence.id == Upload.evidence_id,
                                      Evidence.created_by == Upload.user_id).exists())).all()
    for upload in unclaimed:
        if upload.storage_key and not _shared(upload):
            storage().delete(upload.storage_key)
    for upload in [*expired, *unclaimed]:
        terminate(upload)
    db.session.commit()
    return len(expired) + len(unclaimed)


def _shared(upload: Upload) -> bool:
    """Whether a record or another upload still uses the upload's stored bytes."""
    key = upload.storage_key
    return db.session.scalar(db.select(Evidence.id).where(Evidence.storage_key == key)
                             .limit(1)) is not None or db.session.scalar(
        db.select(Upload.id).where(Upload.storage_key == key, Upload.id != upload.id)
        .limit(1)) is not None
