"""The bytes of an upload in progress: its staging file in UPLOAD_DIR, the lease that lets
one request write at a time, and the running sha256.

A PATCH streams with no transaction open, appending at the offset the database holds.
What arrived is committed as the new offset every COMMIT_EVERY bytes, so a server killed
in the middle of a long PATCH keeps what it had received; a lease whose holder died
with it can be taken at once.

UPLOAD_DIR is either one folder all web hosts share, or each host's own, with the load
balancer sending every request for one upload to one host (docs/deploy.md). The file is
made by the first bytes, on the host that receives them. Every staging file, wherever it
is, holds a prefix of the phone's file: bytes are only ever written at their own offset.
So a host that holds fewer bytes than the database's offset (its file is gone, or another
host received the rest and then died, or the balancer moved the upload) can send the
phone back to what it holds (``rewind``), and the whole file's sha256 is still checked
on the last byte.
"""

import hashlib
import os
import queue
import secrets
import socket
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from media.storage_local import uncache

from ..errors import Problem
from ..extensions import db
from ..models import Upload, utcnow
from ..processes import ended

CHUNK = 1024 * 1024
# Hand what arrived to the disk every 8 MiB: fewer dirty pages held, a short final fsync
# (64 MiB steps gave 1.04-1.20x the Node server in bench/tus_bench.py, 8 MiB 1.27-1.37x).
WRITE_BACK = 8 * CHUNK
# Commit the offset every 64 MiB of a PATCH without Upload-Checksum: a crash loses at
# most that much, and a gigabyte costs sixteen small commits.
COMMIT_EVERY = 64 * CHUNK
LEASE = timedelta(seconds=60)
# Renewed by time, not by bytes: a slow phone keeps its lease, a fast one does not
# commit every few MiB.
RENEW_AFTER = LEASE.total_seconds() / 3
# sha256 of bytes received so far, per upload, in this process: saves reading a
# finished file again. Another process resuming the upload re-reads instead.
_hashers: dict[uuid.UUID, tuple[int, "hashlib._Hash"]] = {}
HOLDER = f"{socket.gethostname()[:100]} {os.getpid()}"


def staging_path(upload_id: uuid.UUID) -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / f"{upload_id}.part"  # never a client's name


def _open_staging(upload_id: uuid.UUID, new: bool):
    """The staging file, made when ``new``; UPLOAD_DIR is made with the host's first one.
    Not before every request: a mkdir that finds the folder made is still a system call
    and, under load, one more wait for the interpreter's lock."""
    path = staging_path(upload_id)
    flags = os.O_RDWR | (os.O_CREAT if new else 0)
    try:
        return open(os.open(path, flags, 0o666), "r+b")
    except FileNotFoundError:
        if not new:
            raise
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(os.open(path, flags, 0o666), "r+b")


def held(upload_id: uuid.UUID) -> int | None:
    """How many bytes of the upload this host's staging file holds; None without one.
    Read from an open file: on NFS, opening revalidates a size another host changed."""
    try:
        with open(staging_path(upload_id), "rb") as f:
            return os.fstat(f.fileno()).st_size
    except FileNotFoundError:
        return None


def held_elsewhere(upload: Upload) -> bool:
    """Whether, as the upload's row was read, a request of another host holds its lease."""
    return (upload.lease is not None and upload.lease_until >= utcnow()
            and _elsewhere(upload.lease_holder))


def rewind(upload: Upload, have: int) -> bool:
    """Bring the upload's offset back to ``have``, the bytes this host holds, when it is
    beyond them. False, changing nothing, while a request of another host holds the
    lease: it may be writing there bytes this host will never see, or its host died
    under it (the lease outlives it by up to LEASE); this host cannot go on with the
    upload either way. A lease of a dead process of this host does not count; a live
    one of this host is left to its request. The caller commits.

    A request that outlived its lease and writes on regardless writes into its own
    host's file; whatever offset it commits, no host serves bytes it does not hold: its
    next request rewinds again."""
    for _attempt in range(3):
        now = utcnow()
        if _rewind_where(upload.id, have, (Upload.lease.is_(None)) | (Upload.lease_until < now)):
            break
        state, offset, lease, until, holder = db.session.execute(
            db.select(Upload.state, Upload.offset, Upload.lease, Upload.lease_until,
                      Upload.lease_holder).where(Upload.id == upload.id)).one()
        leased = lease is not None and until >= now
        if state == "receiving" and leased and _elsewhere(holder):
            return False
        if state != "receiving" or offset <= have or (leased and not _gone(holder)):
            break  # done, or failed; moved back meanwhile; a request of this host writes
        if leased and _rewind_where(upload.id, have, Upload.lease == lease):
            break  # the lease of a dead process of this host
    else:
        return False
    db.session.refresh(upload)
    return True


def _rewind_where(upload_id: uuid.UUID, have: int, condition) -> bool:
    return bool(db.session.execute(
        db.update(Upload).where(Upload.id == upload_id, Upload.state == "receiving",
                                Upload.offset > have, condition)
        .values(offset=have, lease=None, lease_until=None, lease_holder=None)).rowcount)


def _elsewhere(holder: str | None) -> bool:
    """Whether a lease's holder ("host pid") is a process of another host."""
    return (holder or "").rpartition(" ")[0] != HOLDER.rpartition(" ")[0]


def take_lease(upload: Upload) -> tuple[str, int]:
    """Claim the upload for this request: (the lease's token, the upload's offset as it
    was claimed), or 423 while another request holds it. A lease held by a process of
    this host that no longer runs is taken at once."""
    token, now = secrets.token_hex(16), utcnow()
    mine = {"lease": token, "lease_until": now + LEASE, "lease_holder": HOLDER}
    offset = _claim(upload.id, (Upload.lease.is_(None)) | (Upload.lease_until < now), mine)
    if offset is None:
        lease, holder = db.session.execute(db.select(Upload.lease, Upload.lease_holder)
                                           .where(Upload.id == upload.id)).one()
        if _gone(holder):
            offset = _claim(upload.id, Upload.lease == lease, mine)
    db.session.commit()
    if offset is None:
        raise Problem(423, _("Upload busy"), _("Another request is writing to this upload; "
                                               "retry after it ends."),
                      headers={"Retry-After": "5"})
    return token, offset


def _claim(upload_id: uuid.UUID, condition, lease: dict) -> int | None:
    """Set the lease where ``condition`` holds; the offset then, None when it did not."""
    return db.session.execute(
        db.update(Upload).where(Upload.id == upload_id, condition).values(**lease)
        .returning(Upload.offset), execution_options={"synchronize_session": False}
    ).scalar()


def _gone(holder: str | None) -> bool:
    """Whether the lease's holder was a process of this host that has ended (killed).
    A holder on another host keeps its lease until it expires."""
    host, _sep, pid = (holder or "").rpartition(" ")
    return host == HOLDER.rpartition(" ")[0] and pid.isdigit() and ended(int(pid))


def release_lease(upload_id: uuid.UUID, token: str):
    db.session.execute(db.update(Upload).where(Upload.id == upload_id, Upload.lease == token)
                       .values(lease=None, lease_until=None, lease_holder=None))
    db.session.commit()


def settle(upload_id: uuid.UUID, token: str, offset: int):
    """Commit the new offset and end the lease in one statement: whoever sees the offset
    may write at it at once. 409 when another request took the upload over meanwhile."""
    _while_held(upload_id, token, offset=offset, lease=None, lease_until=None,
                lease_holder=None)


def _hold(upload_id: uuid.UUID, token: str, renewed: float, offset: int | None = None
          ) -> float:
    """Renew the lease once a third of it has passed (and commit ``offset``, when given),
    before writing again; 409 when another request took the upload (this one stalled
    past the lease), so a stale request never writes to, or truncates, a file that is
    no longer its own."""
    if offset is None and time.monotonic() - renewed < RENEW_AFTER:
        return renewed
    values = {"lease_until": utcnow() + LEASE} | ({} if offset is None else {"offset": offset})
    _while_held(upload_id, token, **values)
    return time.monotonic()


def _while_held(upload_id: uuid.UUID, token: str, **values):
    """Commit ``values`` to the upload if this request's lease still holds it; else 409."""
    held = db.session.execute(
        db.update(Upload).where(Upload.id == upload_id, Upload.lease == token)
        .values(**values)).rowcount
    db.session.commit()
    if not held:
        raise Problem(409, _("Upload taken over"), _("This request stalled and another one "
                      "took over the upload; HEAD it and resume."))


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
    kept, and committed every COMMIT_EVERY bytes. The staging file is cut back to the
    offset first, dropping any half-written tail an interrupted request left behind.
    The file is made for bytes at offset 0; FileNotFoundError when it is gone later.
    """
    start = upload.offset
    digest = checksum and hashlib.new(checksum[0])
    whole = _running_hash(upload, start)
    written, broken, flushed, committed, renewed = 0, False, 0, 0, time.monotonic()
    # The first bytes make the file, on the host that receives them; later ones need it.
    with _open_staging(upload.id, new=start == 0) as f:
        f.truncate(start)
        f.seek(start)
        hashing = Hashing([digest, whole], threaded=upload.length - start > CHUNK)
        try:
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
                hashing.update(chunk)
                if written - flushed >= WRITE_BACK:
                    _uncache(f)
                    flushed = written
                if not digest and written - committed >= COMMIT_EVERY:
                    renewed = _keep_so_far(f, upload.id, token, start + written)
                    committed = written
        finally:
            hashing.finish()
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
        _uncache(f)
    if whole is not None:
        _hashers[upload.id] = (start + written, whole)
    return start + written, broken


class Hashing:
    """Feeds what a PATCH writes to its hashes; for a body longer than one read, in a
    thread of its own. sha256 takes about 0.5 s of a core per GiB, as long as the
    request's own reading and writing: beside it, on another core, it costs a long
    upload no time (hashlib lets go of the interpreter while it hashes). At most
    ``QUEUED`` reads wait for it."""

    QUEUED = 8

    def __init__(self, hashes: list, threaded: bool):
        self.hashes = [h for h in hashes if h]
        self.queue = self.thread = None
        if threaded and self.hashes:
            self.queue = queue.Queue(maxsize=self.QUEUED)
            self.thread = threading.Thread(target=self._run, name="upload-hash", daemon=True)
            self.thread.start()

    def update(self, chunk: bytes):
        if self.queue is None:
            self._feed(chunk)
        else:
            self.queue.put(chunk)

    def _feed(self, chunk: bytes):
        for h in self.hashes:
            h.update(chunk)

    def _run(self):
        while (chunk := self.queue.get()) is not None:
            self._feed(chunk)

    def finish(self):
        """Wait until every chunk is hashed."""
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()


def _keep_so_far(f, upload_id: uuid.UUID, token: str, offset: int) -> float:
    """Make the bytes up to ``offset`` durable and commit them as the upload's offset."""
    f.flush()
    os.fsync(f.fileno())
    return _hold(upload_id, token, 0.0, offset)


def _uncache(f):
    """Hand what arrived to the disk and out of the page cache. Midway, writing back
    starts without waiting: the fsync at the end then waits for the last few MiB, not
    the whole gigabyte. After the fsync, every page is freed: the file is read once more,
    by its media job. With fifty phones (bench/load_bench.py) this cut a PATCH's CPU from
    22.7 to 15.1 ms (median): see media.storage_local.uncache."""
    f.flush()
    uncache(f)


def file_sha256(upload: Upload) -> str:
    """The staging file's sha256: this process's running hash when it saw every byte,
    else read from the disk (another process wrote some of them)."""
    seen = _hashers.pop(upload.id, None)
    if seen is not None and seen[0] == upload.length:
        return seen[1].hexdigest()
    digest = hashlib.sha256()
    with open(staging_path(upload.id), "rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def forget(upload_id: uuid.UUID):
    staging_path(upload_id).unlink(missing_ok=True)
    _hashers.pop(upload_id, None)
