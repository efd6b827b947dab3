"""Evidence files on the phone: kept, uploaded by tus 1.0.0 (docs/uploads.md), resumed.

A photo (or recording) is two things: the ``evidence`` record, queued in the outbox like
any change, and its file, which the phone keeps in its own folder and uploads with tus.
Both are written in one SQLite transaction of the phone's file, after the file itself is
on disk (fsynced): a phone switched off at any moment either has both or neither (a file
without its row is never used).

Each file's row in ``uploads`` remembers the upload's URL once the server created it and
the offset it last reported, so an upload survives a lost connection and a restart of
the phone: it goes on with ``HEAD`` (where does the server stand?) and ``PATCH`` from
that offset. Every request goes through the client's transport (so faults apply) and
every failure is retried with the client's backoff; progress resets the count of
failures, so a long upload over a bad link is not given up while it advances. What the
server has kept of a broken request counts: the next ``PATCH`` starts at the server's
offset, not at ours.

States of a file:

``pending``
    bytes still to send (or the upload still to create);
``uploaded``
    the server holds the whole file; the phone keeps its copy until the evidence is
    ``ready``, because a file the server's media job rejects must still be on the phone;
``ready``
    the server reports the evidence ``ready``: the phone's copy is removed;
``failed``
    the server refused the file for good (another's evidence, a different file, too
    large, processing ``failed``): the copy stays, ``error`` says why;
``cancelled``
    the evidence was deleted on the phone, or its record was rejected.

A file is sent only once the server can know it may take it: its evidence record was
pushed, or at least its check (a unit contact's: its rectification) was, which the server
checks for a file that comes first (docs/uploads.md, "The file and the record, in either
order"). A server that holds too many of the phone's files waiting for their records
(``413``/``429`` on ``POST``) is answered the same way: the file waits for the next push.
"""

import contextlib
import hashlib
import mimetypes
import os
import uuid
from collections import Counter
from pathlib import Path

import httpx

from . import outbox, tus
from .backoff import parse_retry_after
from .errors import AuthError, ServerUnavailable, SyncError, problem_error
from .store import now

UPLOADS = "/api/v1/uploads"
EVIDENCE = "/api/v1/evidence"
CHUNK = 1024 * 1024  # bytes per PATCH: what a broken connection can cost at most
READ = 1024 * 1024
MAX_RESTARTS = 3  # new uploads after the server discarded one (expired, sha256 mismatch)
RETRY_STATUS = frozenset({423, 429, 500, 502, 503, 504})
STATES = ("pending", "uploaded", "ready", "failed", "cancelled")

SCHEMA = """
CREATE TABLE IF NOT EXISTS uploads (
    evidence_id TEXT PRIMARY KEY, path TEXT NOT NULL, size INTEGER NOT NULL,
    sha256 TEXT NOT NULL, kind TEXT NOT NULL, check_id TEXT, rectification_id TEXT,
    filename TEXT, filetype TEXT,
    url TEXT, "offset" INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL DEFAULT 'pending',
    restarts INTEGER NOT NULL DEFAULT 0, error TEXT, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS uploads_state ON uploads (state);
"""
COLUMNS = frozenset({"url", "offset", "state", "restarts", "error"})  # what changes


class _Again(Exception):
    """This request failed in a way that may pass: retry after a wait (or at once)."""

    def __init__(self, cause: str, retry_after: float | None = None, wait: bool = True):
        super().__init__(cause)
        self.cause, self.retry_after, self.wait = cause, retry_after, wait


class _Gone(Exception):
    """The server no longer has this upload (404, expired, failed its sha256): make a new
    one."""


class _Refused(Exception):
    """The server will never take this file as it is: give up on it, keep the copy."""


class _NotYet(Exception):
    """The server cannot know yet that the file is ours: push the record first."""


def file_sha256(path) -> str:
    """The lowercase hex sha256 of a file, read in pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(READ):
            digest.update(block)
    return digest.hexdigest()


class Uploads:
    """The files of one phone and their uploads; ``client`` gives the store, the HTTP
    client, the backoff and the counters."""

    def __init__(self, client, folder, chunk_size: int = CHUNK):
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1 byte")
        self.client, self.store = client, client.store
        self.folder = Path(folder)
        self.chunk_size = chunk_size
        self.store.db.executescript(SCHEMA)

    # --- capturing ----------------------------------------------------------------------

    def add(self, data: dict, content: bytes | None = None, path=None,
            filetype: str | None = None, rectification_id: str | None = None) -> str:
        """Keep a file (``content`` or a copy of the file at ``path``) and queue its
        evidence record (``data`` without ``sha256`` and ``size``: they are computed here).
        A unit contact's file names the rectification it is for (``rectification_id``,
        sent in the upload's metadata only). Returns the new evidence id."""
        if (content is None) == (path is None):
            raise ValueError("give either content or path")
        self.client.checked("evidence", data)  # a mistake keeps nothing
        evidence_id = str(uuid.uuid4())
        self.folder.mkdir(parents=True, exist_ok=True)
        kept = self.folder / evidence_id
        sha256, size = _keep(kept, content, path)
        data = self.client.checked("evidence", dict(data) | {"sha256": sha256, "size": size})
        filename = data.get("filename") or (Path(path).name if path else evidence_id)
        filetype = filetype or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        stamp = now()
        with self.store.transaction():  # the record and the file's row, or neither
            outbox._queue(self.store, "evidence", "upsert", evidence_id, data)
            self.store.db.execute(
                "INSERT INTO uploads (evidence_id, path, size, sha256, kind, check_id, "
                "rectification_id, filename, filetype, created_at, updated_at) VALUES (?, ?, "
                "?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (evidence_id, str(kept), size, sha256, data["kind"], data.get("check_id"),
                 rectification_id, filename, filetype, stamp, stamp))
        return evidence_id

    # --- what is where --------------------------------------------------------------------

    def rows(self, *states: str) -> list[dict]:
        """The files' rows (in some states), oldest first."""
        sql, args = "SELECT * FROM uploads", []
        if states:
            sql += f" WHERE state IN ({', '.join('?' * len(states))})"
            args = list(states)
        return [dict(row) for row in self.store.db.execute(sql + " ORDER BY rowid", args)]

    def row(self, evidence_id: str) -> dict | None:
        found = self.store.db.execute("SELECT * FROM uploads WHERE evidence_id = ?",
                                      (str(evidence_id),)).fetchone()
        return dict(found) if found else None

    def counts(self) -> Counter:
        """How many files are in each state."""
        return Counter({row[0]: row[1] for row in self.store.db.execute(
            "SELECT state, count(*) FROM uploads GROUP BY state")})

    def _set(self, evidence_id: str, **values):
        if not set(values) <= COLUMNS:
            raise ValueError(f"not columns of uploads: {set(values) - COLUMNS}")
        values["updated_at"] = now()
        names = ", ".join(f'"{name}" = ?' for name in values)  # known names only
        with self.store.transaction():
            self.store.db.execute(f"UPDATE uploads SET {names} WHERE evidence_id = ?",  # noqa: S608
                                  [*values.values(), evidence_id])

    # --- uploading ------------------------------------------------------------------------

    def run(self) -> Counter:
        """Upload every pending file the server may take now; return what became of them
        (``uploaded``, ``waiting``, ``failed``, ``cancelled``). Raises ServerUnavailable
        when the network or the server keeps failing (the rest waits for the next run)."""
        summary = Counter()
        for row in self.rows("pending"):
            outcome = self._eligible(row)
            if outcome == "send":
                outcome = self._send(row)
            summary[outcome] += 1
            self.client.stats[f"files_{outcome}"] += 1
        return summary

    def _eligible(self, row: dict) -> str:
        """"send", or why not: "waiting" (the record is not pushed), "cancelled"."""
        evidence_id = row["evidence_id"]
        record = self.store.record("evidence", evidence_id)
        if record is None or record.deleted:
            rejected = self.store.db.execute(
                "SELECT error FROM rejections WHERE type = 'evidence' AND entity_id = ? "
                "ORDER BY rowid DESC LIMIT 1", (evidence_id,)).fetchone()
            why = "the evidence was deleted on the phone"
            if record is None and rejected is not None:
                why = "the server rejected the evidence record: " + str(rejected[0])
            self._cancel(row, why)
            return "cancelled"
        if self.store.server_state("evidence", evidence_id)[0] is not None:
            return "send"
        for type_, key in (("check", "check_id"), ("rectification", "rectification_id")):
            if row[key] and self.store.server_state(type_, row[key])[0] is not None:
                return "send"  # the file may come first: its check proves it is ours
        return "waiting"

    def _cancel(self, row: dict, why: str):
        """Forget the upload (and free the server's space for it, if we can)."""
        if row["url"]:  # unfinished uploads expire on the server anyway
            with contextlib.suppress(_Again, SyncError):
                self._once("DELETE", row["url"])
        Path(row["path"]).unlink(missing_ok=True)
        self._set(row["evidence_id"], state="cancelled", error=why)

    def _send(self, row: dict) -> str:
        """Create or resume one upload and send the rest of the file."""
        evidence_id, size = row["evidence_id"], row["size"]
        url, restarts = row["url"], row["restarts"]
        offset = None  # unknown until the server tells us (after a restart, after an error)
        failures = 0
        backoff = self.client.backoff
        while True:
            try:
                if url is None:
                    url, offset = self._create(row)
                    self._set(evidence_id, url=url, offset=offset)
                elif offset is None:
                    offset = self._head(url)
                    if offset and failures:
                        self.client.stats["uploads_resumed"] += 1
                    self._set(evidence_id, offset=offset)
                if offset >= size:
                    self._set(evidence_id, state="uploaded", offset=size, error=None)
                    self.client.stats["uploads_completed"] += 1
                    return "uploaded"
                moved = self._patch(url, row, offset)
                if moved > offset:
                    failures = 0  # it advances: a long upload on a bad link goes on
                offset = moved
                self._set(evidence_id, offset=offset)
            except _Again as again:
                offset = None
                failures += 1
                if failures >= backoff.max_attempts:
                    raise ServerUnavailable(failures, again.cause) from None
                if again.wait:
                    self.client.stats["retries"] += 1
                    backoff.wait(failures, again.retry_after)
            except _Gone as gone:
                restarts += 1
                url, offset = None, None
                self.client.stats["uploads_restarted"] += 1
                if restarts > MAX_RESTARTS:
                    self._set(evidence_id, state="failed", url=None, restarts=restarts,
                              error=f"the server discarded the upload {restarts} times: {gone}")
                    return "failed"
                self._set(evidence_id, url=None, offset=0, restarts=restarts)
            except _Refused as refused:
                self._set(evidence_id, state="failed", error=str(refused))
                return "failed"
            except _NotYet:
                return "waiting"

    def _create(self, row: dict) -> tuple[str, int]:
        """POST: a new upload; (its URL, the server's offset: the length when the server
        holds this file already)."""
        metadata = {"evidence_id": row["evidence_id"], "kind": row["kind"],
                    "sha256": row["sha256"]}
        for key in ("check_id", "rectification_id", "filename", "filetype"):
            if row[key]:
                metadata[key] = row[key]
        response = self._once("POST", UPLOADS, answer=(429,), headers={
            "Upload-Length": str(row["size"]),
            "Upload-Metadata": tus.encode_metadata(metadata)})
        status = response.status_code
        if status == 201 and response.headers.get("Location"):
            self.client.stats["uploads_created"] += 1
            url = str(response.request.url.join(response.headers["Location"]))
            return url, _offset(response)
        detail = problem_error(response)
        pushed = self.store.server_state("evidence", row["evidence_id"])[0] is not None
        if status == 429 or (status in (403, 413) and not pushed):
            # Not yet: the check or the record is not there, or too many of our files
            # wait for their records. The next push helps.
            raise _NotYet(str(detail))
        raise _Refused(str(detail))

    def _head(self, url: str) -> int:
        response = self._once("HEAD", url)
        if response.status_code == 200:
            return _offset(response)
        if response.status_code in (403, 404, 410):
            raise _Gone(f"HEAD answered {response.status_code}")
        raise _Refused(str(problem_error(response)))

    def _patch(self, url: str, row: dict, offset: int) -> int:
        """PATCH the next chunk from ``offset``; the server's new offset."""
        length = min(self.chunk_size, row["size"] - offset)
        with open(row["path"], "rb") as f:
            f.seek(offset)
            body = f.read(length)
        if len(body) != length:
            raise _Refused("the phone's copy of the file is shorter than its record says")
        self.client.stats["upload_bytes"] += length
        response = self._once("PATCH", url, content=body, headers={
            "Content-Type": tus.OFFSET_TYPE, "Upload-Offset": str(offset)})
        status = response.status_code
        if status in (200, 201, 204):
            return _offset(response)
        if status == 409:  # not where the server stands (a duplicate got there first)
            raise _Again("HTTP 409", wait=False)
        if status == 400:  # the body arrived short: what arrived is kept; HEAD, resume
            raise _Again("HTTP 400 (body cut short)")
        if status in (404, 410):
            raise _Gone(f"PATCH answered {status}")
        if status == 460:  # the whole file failed its sha256: nothing of it was kept
            if file_sha256(row["path"]) != row["sha256"]:
                raise _Refused("the phone's copy of the file no longer matches its sha256")
            raise _Gone("the file arrived damaged (sha256 mismatch)")
        raise _Refused(str(problem_error(response)))

    def _once(self, method: str, url: str, headers=None, content: bytes | None = None,
              answer=()) -> httpx.Response:
        """One request; _Again on a network error or a status worth retrying (unless it is
        one of ``answer``, which the caller reads itself)."""
        headers = {"Tus-Resumable": tus.VERSION,
                   "Authorization": f"Bearer {self.client.token()}"} | dict(headers or {})
        self.client.stats["requests"] += 1
        self.client.stats["upload_requests"] += 1
        try:
            response = self.client.http.request(method, url, headers=headers, content=content)
        except httpx.TransportError as error:
            raise _Again(f"{type(error).__name__}: {error}") from None
        if response.status_code in RETRY_STATUS and response.status_code not in answer:
            raise _Again(f"HTTP {response.status_code}",
                         parse_retry_after(response.headers.get("Retry-After")))
        if response.status_code == 401:
            raise problem_error(response)
        return response

    # --- after a pull ---------------------------------------------------------------------

    def settle(self) -> Counter:
        """Look at what the last pull said of each uploaded file's evidence: ``ready``
        frees the phone's copy; ``failed`` keeps it, with the server's reason."""
        summary = Counter()
        for row in self.rows("uploaded"):
            record = self.store.record("evidence", row["evidence_id"])
            if record is None or record.deleted:
                Path(row["path"]).unlink(missing_ok=True)
                self._set(row["evidence_id"], state="cancelled",
                          error="the evidence was deleted")
                summary["cancelled"] += 1
                continue
            state = record.data.get("state")
            if state == "ready":
                Path(row["path"]).unlink(missing_ok=True)
                self._set(row["evidence_id"], state="ready", error=None)
                summary["ready"] += 1
                self.client.stats["files_released"] += 1
            elif state == "failed":
                self._set(row["evidence_id"], state="failed",
                          error=record.data.get("failure") or "processing failed")
                summary["failed"] += 1
        return summary

    def original_sha256(self, evidence_id: str) -> str | None:
        """The sha256 of the original the server stores for this evidence (downloaded
        whole), or None when it has none or it is not ours to see."""
        try:
            response = self.client.request("GET", f"{EVIDENCE}/{evidence_id}/original")
        except SyncError as error:
            if isinstance(error, AuthError) or error.status != 404:
                raise
            return None
        return hashlib.sha256(response.content).hexdigest()


def _offset(response: httpx.Response) -> int:
    try:
        return tus.parse_number(response.headers.get("Upload-Offset"), "Upload-Offset")
    except tus.TusError as error:
        raise _Again(f"bad answer: {error}") from None


def _keep(target: Path, content: bytes | None, path) -> tuple[str, int]:
    """Write the phone's copy (fsynced, so the row written next never names a file that
    a crash lost); its sha256 and size."""
    digest, size = hashlib.sha256(), 0
    partial = target.with_name(target.name + ".part")
    with open(partial, "wb") as out:
        if content is not None:
            out.write(content)
            digest.update(content)
            size = len(content)
        else:
            with open(path, "rb") as source:
                while block := source.read(READ):
                    out.write(block)
                    digest.update(block)
                    size += len(block)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, target)
    return digest.hexdigest(), size
