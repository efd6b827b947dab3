"""A large upload streams to storage: the server never holds the file in memory."""

import hashlib
import tracemalloc
import uuid

import httpx

from sync.tus import encode_metadata
from tests.conftest import login

SIZE = 128 * 1024 * 1024
BLOCK = 1024 * 1024


def _body():
    block = bytes(range(256)) * (BLOCK // 256)
    for _ in range(SIZE // BLOCK):
        yield block


def test_memory_stays_flat_while_a_128_mib_file_uploads(client, make, live_server):
    user = make.user("supervisor")
    check_id = str(make.check(user, make.site()).id)
    token = login(client, user.username).json["token"]
    digest = hashlib.sha256()
    for block in _body():
        digest.update(block)
    headers = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    tracemalloc.start()
    try:
        with httpx.Client(base_url=live_server, headers=headers, timeout=120) as http:
            created = http.post("/api/v1/uploads", headers={
                "Upload-Length": str(SIZE), "Upload-Metadata": encode_metadata({
                    "evidence_id": str(uuid.uuid4()), "check_id": check_id, "kind": "video",
                    "sha256": digest.hexdigest()})})
            assert created.status_code == 201
            done = http.patch(created.headers["Location"], content=_body(), headers={
                "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert done.status_code == 204 and done.headers["Upload-Offset"] == str(SIZE)
    assert peak < 24 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB for a 128 MiB upload"
