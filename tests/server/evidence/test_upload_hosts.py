"""Two web hosts on one database, each with its own UPLOAD_DIR, as behind a load balancer
that sends every request for one upload to one host (docs/deploy.md): the creating POST
may land on either; a host that holds fewer bytes than arrived sends the phone back to
what it holds; a host whose request died under it makes the upload lost (410), never
wrong."""

import copy
import hashlib
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from server import create_app
from server.evidence import staging
from server.extensions import db
from server.models import Evidence, Upload, utcnow
from tests.conftest import IsolatedClient
from tests.server.sync.conftest import Phone, mutation


def _path(location: str) -> str:
    return "/" + location.split("/", 3)[3]


def _upload(location: str) -> Upload:
    db.session.expire_all()
    return db.session.get(Upload, uuid.UUID(location.rsplit("/", 1)[1]))


@pytest.fixture
def host_b(app, tmp_path):
    """``host_b(up)``: the same phone, its requests served by a second web host: the same
    database, media store and secret, another UPLOAD_DIR."""
    keys = ("TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "REDIS_URL", "MEDIA_ROOT",
            "INSTANCE_DIR", "ARGON2_TIME_COST", "ARGON2_MEMORY_KIB")
    other = create_app({key: app.config[key] for key in keys}
                       | {"UPLOAD_DIR": str(tmp_path / "uploads-b")})
    other.test_client_class = IsolatedClient
    client = other.test_client()

    def on_b(up):
        served = copy.copy(up)
        served.client = client
        return served

    on_b.upload_dir = Path(other.config["UPLOAD_DIR"])
    yield on_b
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def _stored(app, upload: Upload) -> bytes:
    return (Path(app.config["MEDIA_ROOT"]) / upload.storage_key).read_bytes()


def test_an_upload_created_on_one_host_is_written_on_the_other(app, uploader, host_b,
                                                               blob):
    up = uploader()
    location = _path(up.create(blob).headers["Location"])
    assert list(Path(app.config["UPLOAD_DIR"]).glob("*.part")) == []  # no file left on A
    b = host_b(up)
    assert b.head(location).headers["Upload-Offset"] == "0"
    b.patch(location, blob[:100_000], 0)
    done = b.patch(location, blob[100_000:], 100_000)
    assert done.headers["Upload-Offset"] == str(len(blob))
    upload = _upload(location)
    assert upload.state == "complete" and _stored(app, upload) == blob
    assert list(host_b.upload_dir.glob("*.part")) == []


def test_first_bytes_sent_with_the_post_make_the_file_on_that_host(app, uploader, blob):
    up = uploader()
    created = up.client.post("/api/v1/uploads", data=blob[:1000], headers=up.headers | {
        "Upload-Length": str(len(blob)), "Content-Type": "application/offset+octet-stream"}
        | up.metadata(blob))
    assert created.status_code == 201 and created.headers["Upload-Offset"] == "1000"
    location = _path(created.headers["Location"])
    assert up.patch(location, blob[1000:], 1000).headers["Upload-Offset"] == str(len(blob))


def test_a_host_without_the_bytes_sends_the_phone_back_to_the_start(app, uploader, host_b,
                                                                    blob):
    """Host A took the first bytes and died between two PATCHes (its lease let go): host
    B has none of them, so HEAD on B says 0 and the same upload completes there."""
    up = uploader()
    location = _path(up.create(blob).headers["Location"])
    up.patch(location, blob[:100_000], 0)
    b = host_b(up)
    b.patch(location, blob[100_000:], 100_000, status=409)  # not where B stands
    head = b.head(location)
    assert head.status_code == 200 and head.headers["Upload-Offset"] == "0"
    assert b.patch(location, blob, 0).headers["Upload-Offset"] == str(len(blob))
    upload = _upload(location)
    assert upload.state == "complete" and _stored(app, upload) == blob
    assert upload.sha256 == hashlib.sha256(blob).hexdigest()


def test_back_on_the_first_host_the_phone_resumes_from_what_that_host_holds(
        app, uploader, host_b, blob):
    """A took 100 kB; the balancer moved the upload to B, which took 200 kB from the
    start; back on A (it came back), HEAD says 100 kB, and the whole file's sha256 is
    read from A's disk."""
    up = uploader()
    location = _path(up.create(blob).headers["Location"])
    up.patch(location, blob[:100_000], 0)
    b = host_b(up)
    assert b.head(location).headers["Upload-Offset"] == "0"
    b.patch(location, blob[:200_000], 0)
    staging._hashers.clear()  # A is another process
    assert up.head(location).headers["Upload-Offset"] == "100000"
    assert up.patch(location, blob[100_000:], 100_000).headers["Upload-Offset"] == \
        str(len(blob))
    upload = _upload(location)
    assert upload.state == "complete" and _stored(app, upload) == blob


def test_a_damaged_prefix_on_the_first_host_is_caught_by_the_files_sha256(
        app, uploader, host_b, blob):
    """The rewind trusts the bytes a host holds only as far as the last byte's check."""
    up = uploader()
    location = _path(up.create(blob).headers["Location"])
    up.patch(location, blob[:100_000], 0)
    b = host_b(up)
    b.head(location)
    b.patch(location, blob[:200_000], 0)
    with open(staging.staging_path(_upload(location).id), "r+b") as f:
        f.write(b"\0" * 10)  # A's disk is not what the phone sent
    staging._hashers.clear()
    assert up.head(location).headers["Upload-Offset"] == "100000"
    up.patch(location, blob[100_000:], 100_000, status=460)
    assert _upload(location).state == "failed"


def _lease(location: str, holder: str, seconds: float):
    db.session.execute(db.update(Upload).where(Upload.id == _upload(location).id).values(
        lease="a" * 32, lease_holder=holder, lease_until=utcnow() + timedelta(seconds=seconds)))
    db.session.commit()


@pytest.mark.parametrize("sent", [0, 100_000])
def test_while_a_request_of_another_host_holds_the_upload_it_is_lost_and_sent_anew(
        app, uploader, host_b, blob, sent):
    """A PATCH on host A holds the lease (A died under it, or still writes): B has none
    of the bytes A has, or is receiving. 410 at once rather than 423 until the dead
    host's lease runs out: the phone makes a new upload, which completes; nothing is
    lost."""
    up = uploader()
    evidence_id = uuid.uuid4()
    location = _path(up.create(blob, evidence_id).headers["Location"])
    if sent:
        up.patch(location, blob[:sent], 0)
    _lease(location, "web-a.internal 4242", 60)
    b = host_b(up)
    assert b.head(location).status_code == 410
    b.patch(location, blob[sent:], sent, status=410)
    assert _upload(location).state == "failed"
    again = _path(b.create(blob, evidence_id).headers["Location"])
    assert b.patch(again, blob, 0).headers["Upload-Offset"] == str(len(blob))
    upload = _upload(again)
    assert upload.state == "complete" and _stored(app, upload) == blob


def test_a_request_of_this_host_that_holds_the_upload_is_waited_for(uploader, blob):
    """The same host (or a shared UPLOAD_DIR): the other request is alive and writes, so
    423 as ever, not lost."""
    up = uploader()
    location = _path(up.create(blob).headers["Location"])
    _lease(location, staging.HOLDER, 60)  # this very process: alive
    assert up.head(location).headers["Upload-Offset"] == "0"
    up.patch(location, blob, 0, status=423)
    assert _upload(location).state == "receiving"


def _dead_pid() -> int:
    finished = subprocess.Popen(["true"])
    finished.wait()
    return finished.pid


@pytest.mark.parametrize("whose", ["expired", "dead process of this host"])
def test_a_lease_nobody_holds_any_more_does_not_stop_the_rewind(app, uploader, host_b, blob,
                                                                whose):
    up = uploader()
    location = _path(up.create(blob).headers["Location"])
    up.patch(location, blob[:100_000], 0)
    if whose == "expired":
        _lease(location, "web-a.internal 4242", -1)
    else:
        _lease(location, f"{staging.HOLDER.rpartition(' ')[0]} {_dead_pid()}", 60)
    b = host_b(up)
    assert b.head(location).headers["Upload-Offset"] == "0"
    assert b.patch(location, blob, 0).headers["Upload-Offset"] == str(len(blob))


def test_the_evidence_record_meets_the_file_written_on_the_other_host(app, client, uploader,
                                                                      host_b, blob):
    """The record pushed through host A, the file finished on host B after a failover:
    the evidence has the file (its media job ran in-process: not a photo, so failed)."""
    up = uploader()
    evidence_id = uuid.uuid4()
    record = mutation("evidence", evidence_id, {
        "check_id": str(up.check.id), "kind": "photo", "size": len(blob),
        "sha256": hashlib.sha256(blob).hexdigest(), "filename": "IMG_0001.jpg"})
    assert Phone(client, up.user).push_one(record)["status"] == "applied"
    location = _path(up.create(blob, evidence_id).headers["Location"])
    up.patch(location, blob[:100_000], 0)
    b = host_b(up)
    b.head(location)
    b.patch(location, blob, 0)
    db.session.expire_all()
    evidence = db.session.get(Evidence, evidence_id)
    assert evidence.storage_key == _upload(location).storage_key
    assert evidence.state != "awaiting_upload"
