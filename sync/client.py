"""The reference sync client: what a phone does, over httpx and one SQLite file.

Every change of the local file is one SQLite transaction, so a phone killed at any
point loses nothing and sends nothing twice that the server would apply twice: a
mutation leaves the outbox only in the transaction that records its result, and its id
never changes, so a push repeated after a crash is answered ``duplicate``.

Cursors. Only a pull moves the pull cursor, in the same transaction as the page of
changes it belongs to. The push response's cursor is the feed's latest change at that
moment; jumping to it would skip changes of others committed between our last pull and
the push, so it is kept as ``push_cursor`` for information only. The price is that the
next pull brings our own changes back once: harmless (versions decide) and useful, as
it carries the server's merged record (appended notes, server fields).

Rebase. The store keeps the server's state of each record apart from the pending local
mutations, and shows the app the one replayed on top of the other. A pull replaces the
server's state (unless the change is older than what we hold) and the pending edits stay
on top; when a change is pushed they are judged by the server against the version the
user actually saw (see outbox.py), so a concurrent change comes back as a ``conflict``
rather than being silently overwritten.

Files. Evidence is a record and a file: ``add_evidence`` keeps the file on the phone and
queues the record; ``sync`` pushes, then uploads the files by tus (resuming from the
server's offset, across restarts), then pulls, and drops the phone's copy of a file only
once the server reports its evidence ``ready`` (upload.py).
"""

import contextlib
import uuid
from collections import Counter
from pathlib import Path

import httpx
import orjson
import pydantic

from . import outbox
from .backoff import Backoff, parse_retry_after
from .errors import AuthError, ServerUnavailable, SyncError, problem_error
from .messages import MAX_MUTATIONS, MAX_PUSH_BYTES, PullResponse, PushResponse
from .records import PUSHABLE
from .store import Record, Store
from .upload import CHUNK, Uploads

LOGIN, PUSH, PULL = "/api/v1/auth/device", "/api/v1/sync/push", "/api/v1/sync/pull"
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
# Close a connection idle this long ourselves, well before the server's keep-alive does
# (5 s with the README's gunicorn command, 2 s by gunicorn's default): a request sent on
# a connection the server has just closed fails, and has to be sent again.
KEEP_IDLE_SECONDS = 1.0


class Client:
    """One phone: its local file, its token, and push and pull over HTTP."""

    def __init__(self, base_url: str, db_path, transport: httpx.BaseTransport | None = None,
                 backoff: Backoff | None = None, page_size: int = 500, timeout: float = 15.0,
                 files_dir=None, upload_chunk: int = CHUNK):
        """``files_dir`` keeps the captured files until the server has them ready (next
        to the phone's file by default); ``upload_chunk`` is the most bytes one PATCH
        sends."""
        self.store = Store(db_path)
        self.backoff = backoff or Backoff()
        self.page_size = page_size
        self.max_mutations, self.max_bytes = MAX_MUTATIONS, MAX_PUSH_BYTES
        self.http = httpx.Client(base_url=base_url, transport=transport, timeout=timeout,
                                 limits=httpx.Limits(keepalive_expiry=KEEP_IDLE_SECONDS))
        self.stats = Counter()  # requests, retries, push results by status, uploads
        self.files = Uploads(self, files_dir or Path(f"{db_path}.files"), upload_chunk)

    def close(self):
        """Close the connection pool and the local file."""
        self.http.close()
        self.store.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- signing in ---------------------------------------------------------------------

    @property
    def user(self) -> dict | None:
        """The signed-in user as the login answered (id, name, role), or None."""
        return self.store.get("user")

    def login(self, username: str, password: str, device_name: str) -> dict:
        """Sign this phone in; keep the token and device id. Returns the login answer."""
        body = {"username": username, "password": password, "device_name": device_name}
        answer = self._request("POST", LOGIN, json=body, auth=False).json()
        with self.store.transaction():
            self.store.put("token", answer["token"])
            self.store.put("device_id", answer["device_id"])
            self.store.put("user", answer["user"])
        return answer

    def logout(self):
        """Revoke this phone's token on the server and forget it; queued changes stay."""
        with contextlib.suppress(AuthError):  # already revoked: the goal is reached
            self._request("DELETE", LOGIN)
        with self.store.transaction():
            self.store.put("token", None)

    # --- local editing, offline ---------------------------------------------------------

    def upsert(self, type_: str, entity_id: str | None = None, data: dict | None = None,
               base_version=outbox.KNOWN) -> str:
        """Create (no entity_id: a new uuid4) or change a record locally and queue it."""
        data = _checked(type_, data or {})
        entity_id = str(entity_id or uuid.uuid4())
        outbox.enqueue(self.store, type_, "upsert", entity_id, data, base_version)
        return entity_id

    def delete(self, type_: str, entity_id: str, base_version=outbox.KNOWN) -> str:
        """Delete a record locally and queue the delete (the server keeps a tombstone)."""
        _checked(type_, {})
        outbox.enqueue(self.store, type_, "delete", str(entity_id), {}, base_version)
        return str(entity_id)

    def add_evidence(self, check_id: str | None, kind: str, content: bytes | None = None, *,
                     path=None, filename: str | None = None, captured_at: str | None = None,
                     location: dict | None = None, finding_id: str | None = None,
                     filetype: str | None = None, rectification_id: str | None = None) -> str:
        """Capture a file as evidence of a check (a unit contact's evidence has none; its
        upload names the rectification it is for): keep a copy of ``content`` (or of the
        file at ``path``) until the server has it ``ready``, and queue its record with the
        file's sha256 and size. Returns the evidence id; the file goes with the next
        ``upload()`` (or ``sync()``)."""
        data = {"kind": kind, "check_id": check_id, "finding_id": finding_id,
                "filename": filename, "captured_at": captured_at, "location": location}
        return self.files.add({k: v for k, v in data.items() if v is not None}, content, path,
                              filetype, rectification_id)

    def record(self, type_: str, entity_id: str) -> Record | None:
        """A record as the app shows it: the server's state with pending edits on top."""
        return self.store.record(type_, str(entity_id))

    def records(self, type_: str | None = None) -> list[Record]:
        """The records (of one type) the app shows, without deleted ones."""
        return self.store.records(type_)

    # --- push ---------------------------------------------------------------------------

    def push(self) -> Counter:
        """Send the outbox in order, in batches; return how many results of each status."""
        summary = Counter()
        while True:
            batch, too_large = outbox.next_batch(self.store, self.max_mutations,
                                                 self.max_bytes)
            for mutation in too_large:
                outbox.reject_locally(self.store, mutation, "larger than a push may be")
                summary["rejected"] += 1
            if not batch:
                if too_large:
                    continue
                return summary
            answer = self._push_batch(batch)
            if answer is None:
                continue  # the server found the batch too large: try smaller ones
            results, cursor = answer
            with self.store.transaction():  # one commit (one fsync) for the whole answer
                outbox.record_results(self.store, batch, results)
                self.store.put("push_cursor", cursor)  # informational, see the docstring
            summary.update(result["status"] for result in results)
            self.stats.update(result["status"] for result in results)

    def _push_batch(self, batch: list[dict]) -> tuple[list[dict], str] | None:
        """(results, cursor); None when the batch was too large and is to be split."""
        body = {"device_id": self._require("device_id"),
                "mutations": [outbox.wire(mutation) for mutation in batch]}
        try:
            response = self._request("POST", PUSH, content=orjson.dumps(body),
                                     headers={"Content-Type": "application/json"})
        except SyncError as error:
            if error.status != 413:
                raise
            if len(batch) == 1:
                outbox.reject_locally(self.store, batch[0], error.detail)
            self.max_mutations = max(1, len(batch) // 2)
            return None
        answer = _parse(PushResponse, response)
        results = [result.model_dump(mode="json") for result in answer.results]
        if [r["id"] for r in results] != [m["id"] for m in batch]:
            raise SyncError(200, "Bad push response", "results do not match the mutations")
        return results, answer.cursor

    # --- pull ---------------------------------------------------------------------------

    def pull(self) -> int:
        """Fetch and apply changes page by page until none are left; return how many."""
        applied = 0
        while True:
            cursor = self.store.get("cursor")
            params = {"limit": self.page_size} | ({"cursor": cursor} if cursor else {})
            page = _parse(PullResponse, self._request("GET", PULL, params=params))
            with self.store.transaction():  # the page and its cursor, or neither
                applied += self.store.apply_pulled([
                    (c.type, str(c.entity_id), c.op, c.version, c.data) for c in page.changes])
                self.store.put("cursor", page.cursor)
            if not page.more:
                return applied
            if not page.changes and page.cursor == cursor:
                raise SyncError(200, "Bad pull response", "more=true but no progress")

    # --- files --------------------------------------------------------------------------

    def upload(self) -> Counter:
        """Send the files waiting to go (see upload.py); how many ended in each way."""
        return self.files.run()

    def sync(self) -> tuple[Counter, int]:
        """Push the outbox, send the files waiting, then pull what changed; a file whose
        evidence the server reports ``ready`` is then removed from the phone."""
        pushed = self.push()
        self.upload()
        pulled = self.pull()
        self.files.settle()
        return pushed, pulled

    # --- HTTP ---------------------------------------------------------------------------

    def token(self) -> str:
        """The bearer token; AuthError when the phone is not signed in."""
        return self._require("token")

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        """An authorised request, retried with backoff (see ``_request``)."""
        return self._request(method, url, **kwargs)

    @staticmethod
    def checked(type_: str, data: dict) -> dict:
        """A local change validated as the server will; plain JSON."""
        return _checked(type_, data)

    def _require(self, key: str) -> str:
        value = self.store.get(key)
        if not value:
            raise AuthError(401, "Not signed in", "Sign this phone in first.")
        return value

    def _request(self, method: str, url: str, *, auth: bool = True, headers=None,
                 **kwargs) -> httpx.Response:
        """One request, retried with backoff on network errors, 5xx and 429."""
        headers = dict(headers or {})
        if auth:
            headers["Authorization"] = f"Bearer {self._require('token')}"
        for attempt in range(1, self.backoff.max_attempts + 1):
            self.stats["requests"] += 1
            retry_after = None
            try:
                response = self.http.request(method, url, headers=headers, **kwargs)
            except httpx.TransportError as error:
                cause = f"{type(error).__name__}: {error}"
            else:
                if response.status_code < 400:
                    return response
                if response.status_code not in RETRY_STATUS:
                    raise problem_error(response)
                cause = f"HTTP {response.status_code}"
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if attempt < self.backoff.max_attempts:
                self.stats["retries"] += 1
                self.backoff.wait(attempt, retry_after)
        raise ServerUnavailable(self.backoff.max_attempts, cause)


def _checked(type_: str, data: dict) -> dict:
    """Validate a local change offline, as the server will; return it as plain JSON."""
    if type_ not in PUSHABLE:
        raise ValueError(f"{type_!r} records are read-only on phones")
    PUSHABLE[type_].model_validate(data)
    return orjson.loads(orjson.dumps(data))


def _parse(model, response: httpx.Response):
    try:
        return model.model_validate_json(response.content)
    except pydantic.ValidationError as error:
        raise SyncError(response.status_code, "Bad response",
                        f"the server's answer does not follow the protocol: {error}") from None
