"""Several writers push while a reader pulls: every change is seen exactly once.

Commits land out of order when transactions overlap; the feed's lock keeps seq in
commit order so a reader's cursor never passes a change that commits later.
"""

import threading
import uuid

import httpx

from tests.conftest import PASSWORD

WRITERS, BATCHES, PER_BATCH = 4, 12, 5


def _sign_in(base, username):
    answer = httpx.post(f"{base}/api/v1/auth/device", json={
        "username": username, "password": PASSWORD, "device_name": "并发"}).json()
    return answer["device_id"], {"Authorization": f"Bearer {answer['token']}"}


def _write(base, username, site_id, made: list, errors: list):
    device_id, headers = _sign_in(base, username)
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        for _ in range(BATCHES):
            mutations = [{"id": str(uuid.uuid4()), "type": "check", "op": "upsert",
                          "entity_id": str(uuid.uuid4()), "base_version": None,
                          "data": {"site_id": site_id, "mode": "open",
                                   "started_at": "2026-11-30T09:00:00+08:00"}}
                         for _ in range(PER_BATCH)]
            response = http.post("/api/v1/sync/push",
                                 json={"device_id": device_id, "mutations": mutations})
            if response.status_code != 200 or any(
                    r["status"] != "applied" for r in response.json()["results"]):
                errors.append(response.text)
            made += [m["entity_id"] for m in mutations]


def _read(base, headers, stop: threading.Event, seen: list):
    cursor = None
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        while True:
            finishing = stop.is_set()
            while True:
                params = {"limit": 7} | ({"cursor": cursor} if cursor else {})
                body = http.get("/api/v1/sync/pull", params=params).json()
                seen += [c["entity_id"] for c in body["changes"] if c["type"] == "check"]
                cursor = body["cursor"]
                if not body["more"]:
                    break
            if finishing:
                return


def test_concurrent_pushes_are_all_pulled_exactly_once(live_server, make):
    site_id = str(make.site().id)
    writers = [make.user("inspector").username for _ in range(WRITERS)]
    _device, reader_headers = _sign_in(live_server, make.user("compiler").username)
    made, seen, errors, stop = [], [], [], threading.Event()
    read = threading.Thread(target=_read, args=(live_server, reader_headers, stop, seen))
    read.start()
    threads = [threading.Thread(target=_write, args=(live_server, w, site_id, made, errors))
               for w in writers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    read.join()
    assert errors == []
    assert len(made) == WRITERS * BATCHES * PER_BATCH
    assert sorted(seen) == sorted(made)  # each once: none skipped, none twice
