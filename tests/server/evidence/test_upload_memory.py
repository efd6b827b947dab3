"""A large upload streams to storage: the server never holds the file in memory."""

import hashlib
import tracemalloc
import uuid

import httpx

from sync.tus import encode_metadata
from tests.conftest import login

SIZE = 128 * 1024 * 1024
BLOCK = 1024 * 1024


def _phone(client, make) -> tuple[dict, str]:
    """A supervisor's bearer headers and one of their checks."""
    user = make.user("supervisor")
    check_id = str(make.check(user, make.site()).id)
    token = login(client, user.username).json["token"]
    return {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}, check_id


def _create(http, check_id: str, length: int, sha256: str, kind="photo") -> str:
    created = http.post("/api/v1/uploads", headers={
        "Upload-Length": str(length), "Upload-Metadata": encode_metadata({
            "evidence_id": str(uuid.uuid4()), "check_id": check_id, "kind": kind,
            "sha256": sha256})})
    assert created.status_code == 201
    return created.headers["Location"]


def _body():
    block = bytes(range(256)) * (BLOCK // 256)
    for _ in range(SIZE // BLOCK):
        yield block


def test_memory_stays_flat_while_a_128_mib_file_uploads(client, make, live_server):
    headers, check_id = _phone(client, make)
    digest = hashlib.sha256()
    for block in _body():
        digest.update(block)
    tracemalloc.start()
    try:
        with httpx.Client(base_url=live_server, headers=headers, timeout=120) as http:
            location = _create(http, check_id, SIZE, digest.hexdigest(), kind="video")
            done = http.patch(location, content=_body(), headers={
                "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert done.status_code == 204 and done.headers["Upload-Offset"] == str(SIZE)
    assert peak < 24 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB for a 128 MiB upload"


def test_a_second_patch_while_one_streams_is_refused_and_the_first_completes(
        client, make, live_server):
    import threading
    import time

    headers, check_id = _phone(client, make)
    data = bytes(range(256)) * 4096 * 4  # 4 MiB
    with httpx.Client(base_url=live_server, headers=headers, timeout=60) as http:
        location = _create(http, check_id, len(data), hashlib.sha256(data).hexdigest())
        started, answers = threading.Event(), {}

        def slowly():
            yield data[:BLOCK]
            started.set()
            time.sleep(1.0)  # a phone on a slow link
            yield data[BLOCK:]

        def first():
            answers["first"] = http.patch(location, content=slowly(), headers={
                "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})

        streaming = threading.Thread(target=first)
        streaming.start()
        started.wait(10)
        time.sleep(0.3)
        second = http.patch(location, content=data, headers={
            "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
        streaming.join(30)
        final = http.head(location).headers["Upload-Offset"]
    assert second.status_code == 423 and int(second.headers["Retry-After"]) > 0
    assert answers["first"].status_code == 204 and final == str(len(data))


def test_what_arrived_before_a_dropped_connection_is_kept(client, make, live_server):
    import socket
    import time
    from urllib.parse import urlsplit

    headers, check_id = _phone(client, make)
    data = bytes(range(256)) * 4096 * 2  # 2 MiB
    with httpx.Client(base_url=live_server, headers=headers, timeout=60) as http:
        location = _create(http, check_id, len(data), hashlib.sha256(data).hexdigest())
        target = urlsplit(location)
        with socket.create_connection((target.hostname, target.port)) as phone:
            phone.sendall((f"PATCH {target.path} HTTP/1.1\r\nHost: {target.netloc}\r\n"
                           f"Authorization: {headers['Authorization']}\r\n"
                           "Tus-Resumable: 1.0.0\r\n"
                           "Content-Type: application/offset+octet-stream\r\n"
                           f"Upload-Offset: 0\r\nContent-Length: {len(data)}\r\n\r\n").encode())
            phone.sendall(data[:700_000])  # then the signal is lost
            time.sleep(0.3)
        for _ in range(50):  # the server notices the closed connection
            kept = int(http.head(location).headers["Upload-Offset"])
            if kept:
                break
            time.sleep(0.1)
        assert 0 < kept <= 700_000
        rest = http.patch(location, content=data[kept:], headers={
            "Upload-Offset": str(kept), "Content-Type": "application/offset+octet-stream"})
    assert rest.status_code == 204 and rest.headers["Upload-Offset"] == str(len(data))
