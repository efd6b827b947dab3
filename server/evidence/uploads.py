"""Resumable uploads: create, append bytes, finish into write-once storage, terminate.
Who may upload what, and whose bytes meet which record, is ``ownership``'s.

The bytes of an upload in progress are staged in ``UPLOAD_DIR`` (shared by the web
hosts), appended at the offset the database holds. One request writes at a time,
holding a short lease on the upload row.
"""

import hashlib
import os
import secrets
import time
import uuid
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from media.storage import AlreadyExists, original_key
from media.storage_local import LocalStorage

from ..errors import Problem
from ..extensions import db
from ..models import Evidence, Upload, utcnow
from . import ownership
from .jobs import attach
from .storage import storage

CHUNK = 1024 * 1024
# Hand what arrived to the disk every 8 MiB: fewer dirty pages held, a short final fsync
# (64 MiB steps gave 1.04-1.20x the Node server in bench/tus_bench.py, 8 MiB 1.27-1.37x).
WRITE_BACK = 8 * CHUNK
LEASE = timedelta(seconds=60)
# Renewed by time, not by bytes: a slow phone keeps its lease, a fast one does not
# commit every few MiB.
RENEW_AFTER = LEASE.total_seconds() / 3
# sha256 of bytes received so far, per upload, in this process: saves reading a
# finished file again. Another process resuming the upload re-reads instead.
_hashers: dict[uuid.UUID, tuple[int, "hashlib._Hash"]] = {}


def staging_path(upload_id: uuid.UUID) -> Path:
    folder = Path(current_app.config["UPLOAD_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{upload_id}.part"  # ours, never a name a client chose


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
    else:
        staging_path(upload.id).touch(exist_ok=False)
    db.session.add(upload)
    db.session.flush()
    return upload


def _stored_key(user, evidence: Evidence | None, upload: Upload) -> str | None:
    """Where this very file is stored already for this user and evidence, if it is."""
    if evidence is not None and evidence.storage_key and evidence.sha256 == upload.sha256:
        return evidence.storage_key
    earlier = ownership.stored_for(user.id, upload.evidence_id)
    if earlier is None:
        return None
    if (earlier.sha256, earlier.length) != (upload.sha256, upload.length):
        raise Problem(409, _("Different file"), _("You already uploaded another file for this "
                                                  "evidence; record new evidence instead."))
    return earlier.storage_key


def take_lease(upload: Upload) -> str:
    """Claim the upload for this request, or 423 while another request holds it."""
    token, now = secrets.token_hex(16), utcnow()
    claimed = db.session.execute(
        db.update(Upload).where(Upload.id == upload.id,
                                (Upload.lease.is_(None)) | (Upload.lease_until < now))
        .values(lease=token, lease_until=now + LEASE)).rowcount
    db.session.commit()
    if not claimed:
        raise Problem(423, _("Upload busy"), _("Another request is writing to this upload; "
                                               "retry after it ends."),
                      headers={"Retry-After": "5"})
    return token


def release_lease(upload_id: uuid.UUID, token: str):
    db.session.execute(db.update(Upload).where(Upload.id == upload_id, Upload.lease == token)
                       .values(lease=None, lease_until=None))
    db.session.commit()


def _hold(upload_id: uuid.UUID, token: str, renewed: float) -> float:
    """Renew the lease once a third of it has passed, before writing again; 409 when
    another request took the upload (this one stalled past the lease), so a stale
    request never writes to, or truncates, a file that is no longer its own."""
    if time.monotonic() - renewed < RENEW_AFTER:
        return renewed
    held = db.session.execute(
        db.update(Upload).where(Upload.id == upload_id, Upload.lease == token)
        .values(lease_until=utcnow() + LEASE)).rowcount
    db.session.commit()
    if not held:
        raise Problem(409, _("Upload taken over"), _("This request stalled and another one "
                      "took over the upload; HEAD it and resume."))
    return time.monotonic()


def _running_hash(upload: Upload, start: int):
    """A copy of this process's sha256 of the bytes before ``start``, if it has one."""
    if start == 0:
        return hashlib.sha256()
    seen = _hashers.get(upload.id)
    return seen[1].copy() if seen is not None and seen[0] == start else None


def append(upload: Upload, token: str, read, checksum) -> tuple[int, bool]:
    """Write what ``read(n)`` yields at the upload's offset; return (new offset, broken).

    With a checksum, the chunk counts only when it matches (460 otherwise) and a chunk
    cut short is dropped; without one, whatever arrived before a broken connection is
    kept. The staging file is cut back to the offset first, dropping any half-written
    tail an interrupted request left behind.
    """
    start = upload.offset
    digest = checksum and hashlib.new(checksum[0])
    whole = _running_hash(upload, start)
    written, broken, flushed, renewed = 0, False, 0, time.monotonic()
    with open(staging_path(upload.id), "r+b") as f:
        f.truncate(start)
        f.seek(start)
        while start + written < upload.length:
            try:
                chunk = read(min(CHUNK, upload.length - start - written))
            except OSError:  # the client went away mid-body
                broken = True
                break
            if not chunk:
                break
            renewed = _hold(upload.id, token, renewed)
            f.write(chunk)
            written += len(chunk)
            for h in (digest, whole):
                if h:
                    h.update(chunk)
            if written - flushed >= WRITE_BACK:
                _write_back(f)
                flushed = written
        if digest and (broken or digest.digest() != checksum[1]):
            _hold(upload.id, token, renewed)
            f.truncate(start)
            if not broken:
                raise Problem(460, _("Checksum mismatch"), _(
                    "The chunk does not match Upload-Checksum; it was discarded. Send it "
                    "again from offset %(offset)s.", offset=start))
            written = 0
        f.flush()
        os.fsync(f.fileno())
    if whole is not None:
        _hashers[upload.id] = (start + written, whole)
    return start + written, broken


def _write_back(f):
    """Start writing what arrived to disk now, while more arrives: the fsync at the end
    then waits for the last few MiB, not the whole gigabyte. (Linux's DONTNEED starts
    the writeback without waiting, and frees the pages already on disk.)"""
    if hasattr(os, "posix_fadvise"):  # not on macOS: there the fsync does it all
        f.flush()
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def file_sha256(upload: Upload) -> str:
    seen = _hashers.pop(upload.id, None)
    if seen is not None and seen[0] == upload.length:
        return seen[1].hexdigest()
    digest = hashlib.sha256()
    with open(staging_path(upload.id), "rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


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
    upload.state, upload.completed_at, upload.storage_key = "complete", utcnow(), key
    evidence = db.session.get(Evidence, upload.evidence_id)
    if ownership.claims(upload, evidence):
        attach(evidence, upload)
    return "complete"


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


def terminate(upload: Upload):
    """Forget an upload. A stored original stays: originals are write-once."""
    staging_path(upload.id).unlink(missing_ok=True)
    _hashers.pop(upload.id, None)
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
