"""A tiny in-memory stand-in for the sync API, so the client's own logic is tested alone.

It follows api.md's rules that the client relies on (at-most-once by mutation id,
conflict on a stale base_version, a feed in commit order); the real server is tested
through ``live_server`` in the other modules.
"""

import json
import uuid

import httpx
import pytest

from sync.backoff import Backoff
from sync.client import Client


class FakeServer:
    """Records, applied mutation ids and a change feed, behind an httpx.MockTransport."""

    def __init__(self):
        self.records = {}  # (type, id) -> {"version", "data", "deleted"}
        self.applied = {}  # mutation id -> version
        self.feed = []  # changes in commit order
        self.version = 0
        self.pushes = []  # the mutation ids of every push received
        self.fail_next = []  # status codes to answer the next requests with
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as the API would."""
        if self.fail_next:
            return _problem(self.fail_next.pop(0), "injected")
        if request.url.path == "/api/v1/auth/device" and request.method == "POST":
            return httpx.Response(201, json={
                "token": "t" * 43, "device_id": str(uuid.uuid4()),
                "user": {"id": str(uuid.uuid4()), "name": "张三", "role": "inspector"}})
        if request.headers.get("Authorization") != "Bearer " + "t" * 43:
            return _problem(401, "Sign in")
        if request.url.path == "/api/v1/sync/push":
            return self.push(json.loads(request.content))
        if request.url.path == "/api/v1/sync/pull":
            return self.pull(request.url.params)
        return _problem(404, "no such route")

    def push(self, body: dict) -> httpx.Response:
        """Apply each mutation at most once; answer one result per mutation."""
        self.pushes.append([m["id"] for m in body["mutations"]])
        results = [self._apply(m) for m in body["mutations"]]
        return httpx.Response(200, json={"results": results, "cursor": str(len(self.feed))})

    def _apply(self, m: dict) -> dict:
        if m["id"] in self.applied:
            return {"id": m["id"], "status": "duplicate", "version": self.applied[m["id"]]}
        key = (m["type"], m["entity_id"])
        record = self.records.get(key)
        if m["data"].get("description") == "reject me":
            return {"id": m["id"], "status": "rejected", "error": {
                "type": "about:blank", "title": "Invalid", "status": 422, "detail": "no"}}
        if record and record["version"] != m["base_version"]:
            return {"id": m["id"], "status": "conflict", "version": record["version"],
                    "current": dict(record["data"], id=m["entity_id"])}
        self.write(m["type"], m["entity_id"], m["data"], m["op"] == "delete")
        self.applied[m["id"]] = self.version
        return {"id": m["id"], "status": "applied", "version": self.version}

    def write(self, type_: str, entity_id: str, data: dict, deleted: bool = False):
        """Change a record as another user would; it joins the feed."""
        key = (type_, entity_id)
        old = self.records.get(key, {"data": {}})["data"]
        self.version += 1
        self.records[key] = {"version": self.version, "data": {**old, **data},
                             "deleted": deleted}
        self.feed.append({"type": type_, "entity_id": entity_id,
                          "op": "delete" if deleted else "upsert", "version": self.version,
                          "data": None if deleted else {**old, **data}})

    def pull(self, params) -> httpx.Response:
        """The feed after the cursor, a page at a time."""
        start, limit = int(params.get("cursor", 0)), int(params.get("limit", 500))
        page = self.feed[start:start + limit]
        end = start + len(page)
        return httpx.Response(200, json={"changes": page, "cursor": str(end),
                                         "more": end < len(self.feed)})


def _problem(status: int, detail: str) -> httpx.Response:
    return httpx.Response(status, json={"type": "about:blank", "title": "Problem",
                                        "status": status, "detail": detail, "errors": []},
                          headers={"Content-Type": "application/problem+json"})


@pytest.fixture
def fake():
    """The in-memory server."""
    return FakeServer()


@pytest.fixture
def phone(fake, tmp_path):
    """``phone("a")`` opens (or reopens) the phone whose file is ``a.db``, signed in."""
    opened = []

    def open_phone(name="a", transport=None, login=True) -> Client:
        client = Client("http://mingcha.test", tmp_path / f"{name}.db",
                        transport=transport or fake.transport,
                        backoff=Backoff(max_attempts=4, sleep=lambda _s: None))
        opened.append(client)
        if login and not client.store.get("token"):
            client.login("inspector1", "pw", "测试手机")
        return client

    yield open_phone
    for client in opened:
        client.close()
