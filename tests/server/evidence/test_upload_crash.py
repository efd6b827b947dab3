"""A server killed -9 in the middle of a long PATCH: what it had received is kept (the
offset is committed while bytes stream), the dead request's lease does not hold the
upload, and the upload resumes and completes in a fresh process."""

import contextlib
import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from server.evidence.staging import COMMIT_EVERY
from tests.server.evidence.conftest import Uploader

ROOT = Path(__file__).resolve().parents[3]
MiB = 1024 * 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """``manage.py serve`` on the test's database, in its own process."""

    def __init__(self, app, tmp_path):
        self.env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                        SECRET_KEY=app.config["SECRET_KEY"], REDIS_URL="",
                        MEDIA_ROOT=app.config["MEDIA_ROOT"], UPLOAD_DIR=app.config["UPLOAD_DIR"],
                        MINGCHA_INSTANCE=str(tmp_path / "instance"), LOG_LEVEL="WARNING")
        self.process = None

    def start(self) -> str:
        port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(port)], cwd=ROOT,
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                return base
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("the server did not start")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)  # reaped: its pid is gone

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def test_a_killed_server_keeps_what_it_received_and_the_upload_resumes(app, client, make,
                                                                       tmp_path):
    up = Uploader(client, make.user("supervisor"), None)
    up.check = make.check(up.user, make.site())
    blob = os.urandom(COMMIT_EVERY + 8 * MiB)
    location = "/" + up.create(blob).headers["Location"].split("/", 3)[3]
    served = Served(app, tmp_path)
    try:
        base = served.start()
        sent_enough, release = threading.Event(), threading.Event()

        def body():
            for start in range(0, COMMIT_EVERY + 2 * MiB, MiB):
                yield blob[start:start + MiB]
            sent_enough.set()
            release.wait(30)  # the phone's signal drops: nothing more comes
            yield blob[COMMIT_EVERY + 2 * MiB:]

        def patch():
            with contextlib.suppress(httpx.TransportError):  # the server dies under it
                httpx.patch(base + location, content=body(), timeout=60, headers=up.headers | {
                    "Upload-Offset": "0", "Content-Length": str(len(blob)),
                    "Content-Type": "application/offset+octet-stream"})

        phone = threading.Thread(target=patch)
        phone.start()
        assert sent_enough.wait(60)
        for _ in range(600):  # the committed offset, as any HEAD sees it (a busy CI is slow)
            offset = int(httpx.head(base + location, headers=up.headers)
                         .headers["Upload-Offset"])
            if offset >= COMMIT_EVERY:
                break
            time.sleep(0.1)
        served.kill()
        release.set()
        phone.join(30)

        base = served.start()
        head = httpx.head(base + location, headers=up.headers)
        offset = int(head.headers["Upload-Offset"])
        assert offset >= COMMIT_EVERY  # kept across the crash
        resumed = httpx.patch(base + location, content=blob[offset:], timeout=60,
                              headers=up.headers | {
                                  "Upload-Offset": str(offset),
                                  "Content-Type": "application/offset+octet-stream"})
        assert resumed.status_code == 204  # not 423: the dead request's lease was let go
        assert resumed.headers["Upload-Offset"] == str(len(blob))
    finally:
        served.stop()
    assert up.head(location).headers["Upload-Offset"] == str(len(blob))
    stored = db_upload(location)
    assert stored.state == "complete" and stored.sha256 == hashlib.sha256(blob).hexdigest()


def db_upload(location):
    import uuid

    from server.extensions import db
    from server.models import Upload

    db.session.expire_all()
    return db.session.get(Upload, uuid.UUID(location.rsplit("/", 1)[1]))


def test_an_upload_whose_staging_file_is_gone_starts_again_from_zero(uploader, blob):
    """Not a server error, nor a dead upload: HEAD sends the phone back to the bytes the
    server still holds (none), and the same upload completes."""
    from server.evidence.staging import staging_path

    up = uploader()
    location = "/" + up.create(blob).headers["Location"].split("/", 3)[3]
    up.patch(location, blob[:1000], 0)
    upload = db_upload(location)
    staging_path(upload.id).unlink()
    head = up.head(location)
    assert head.status_code == 200 and head.headers["Upload-Offset"] == "0"
    up.patch(location, blob[1000:], 1000, status=409)
    assert up.patch(location, blob, 0).headers["Upload-Offset"] == str(len(blob))
    assert db_upload(location).state == "complete"


def test_bytes_stored_before_a_crash_complete_the_upload_when_its_file_is_gone(uploader,
                                                                                blob):
    """The server stored the verified file and died before committing: the next request
    finds the stored original and completes the upload."""
    from server.evidence import uploads
    from server.evidence.staging import staging_path
    from server.extensions import db

    up = uploader()
    location = "/" + up.create(blob).headers["Location"].split("/", 3)[3]
    up.patch(location, blob[:1000], 0)
    upload = db_upload(location)
    path = staging_path(upload.id)
    path.write_bytes(blob)
    uploads._keep(path, uploads.original_key(upload.evidence_id, upload.user_id),
                  upload.sha256)  # stored, then the process died: nothing committed
    db.session.rollback()
    path.unlink(missing_ok=True)
    head = up.head(location)
    assert head.status_code == 200 and head.headers["Upload-Offset"] == str(len(blob))
