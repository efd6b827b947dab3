"""Evidence files from the reference client: tus uploads against the real server over real
HTTP (SQLite and PostgreSQL; jobs run in-process, so a stored photo is ready at once)."""

import hashlib
import io
import random
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from flask import current_app
from PIL import Image

from server.extensions import db
from server.models import Evidence, Upload
from sync.backoff import Backoff
from sync.client import Client
from sync.errors import ServerUnavailable
from sync.faults import FaultyTransport
from tests.conftest import PASSWORD
from tests.sync.conftest import RecordingTransport

CHUNK = 64 * 1024


def _jpeg(seed: int = 1, size=(640, 480)) -> bytes:
    """A photo of noise: a few hundred KB that a JPEG decoder reads, unlike each other."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def _now() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


def _check(phone: Client, site_id: str) -> str:
    return phone.upsert("check", data={"site_id": site_id, "mode": "open",
                                       "started_at": _now(), "notes": "安全文明施工检查"})


def _evidence(evidence_id: str) -> Evidence | None:
    db.session.rollback()  # see what the server's requests committed
    return db.session.get(Evidence, uuid.UUID(evidence_id))


def _uploads() -> list[Upload]:
    db.session.rollback()
    return db.session.scalars(sa.select(Upload)).all()


def _phone(live_server, tmp_path, name="a", transport=None, attempts=5) -> Client:
    return Client(live_server, tmp_path / f"{name}.db", transport=transport,
                  backoff=Backoff(base=0.001, cap=0.01, max_attempts=attempts),
                  upload_chunk=CHUNK)


@pytest.fixture
def inspector(make):
    values = (make.user("inspector").username, str(make.site().id))
    db.session.commit()
    return values


def test_a_photo_goes_with_its_record_and_leaves_the_phone_once_ready(
        live_server, tmp_path, inspector):
    username, site_id = inspector
    photo = _jpeg()
    with _phone(live_server, tmp_path) as phone:
        phone.login(username, PASSWORD, "测试手机")
        check_id = _check(phone, site_id)
        evidence_id = phone.add_evidence(
            check_id, "photo", photo, filename="IMG_0001.jpg", captured_at=_now(),
            location={"lat": 34.26, "lon": 117.19, "accuracy_m": 8.0})
        record = phone.record("evidence", evidence_id).data
        assert record["sha256"] == hashlib.sha256(photo).hexdigest()
        assert record["size"] == len(photo)
        kept = tmp_path / "a.db.files" / evidence_id
        assert kept.read_bytes() == photo

        pushed, _pulled = phone.sync()
        assert pushed == {"applied": 2}
        assert phone.record("evidence", evidence_id).data["state"] == "ready"
        assert phone.files.row(evidence_id)["state"] == "ready"
        assert not kept.exists()  # the server has it ready: the phone's copy goes
        assert phone.files.original_sha256(evidence_id) == record["sha256"]
    evidence = _evidence(evidence_id)
    assert evidence.state == "ready" and evidence.media["width"] == 640
    [upload] = _uploads()
    assert (upload.state, upload.offset) == ("complete", len(photo))


def test_a_connection_broken_mid_body_resumes_from_the_servers_offset(
        live_server, tmp_path, inspector):
    username, site_id = inspector
    photo = _jpeg(2)
    assert len(photo) > 3 * CHUNK
    network = FaultyTransport(httpx.HTTPTransport())
    recorder = RecordingTransport(network)
    with _phone(live_server, tmp_path, transport=recorder) as phone:
        phone.login(username, PASSWORD, "测试手机")
        evidence_id = phone.add_evidence(_check(phone, site_id), "photo", photo,
                                         filename="IMG_0002.jpg")
        assert phone.push() == {"applied": 2}
        recorder.sent.clear()
        network.force("pass", "pass", "cut")  # POST, first PATCH, second PATCH broken
        assert phone.upload() == {"uploaded": 1}
        assert network.counts["cut"] == 1
    methods = [method for method, _path, _body in recorder.sent]
    assert methods[:4] == ["POST", "PATCH", "PATCH", "HEAD"]
    assert methods.count("POST") == 1  # resumed, not started again
    offsets = [int(_patch_offset(body, photo)) for method, _p, body in recorder.sent
               if method == "PATCH"]
    assert offsets[:2] == [0, CHUNK]
    # The server kept the first chunk, and what arrived of the second; we went on from
    # there, not from the start.
    assert CHUNK <= offsets[2] <= 2 * CHUNK
    assert phone_bytes_sent(recorder) < len(photo) + 2 * CHUNK
    evidence = _evidence(evidence_id)
    assert evidence.state == "ready"
    assert evidence_path(evidence).read_bytes() == photo


def _patch_offset(body: bytes, photo: bytes) -> int:
    """Where a PATCH's body lies in the file (its first bytes are unique in noise)."""
    return photo.index(body[:4096])


def phone_bytes_sent(recorder: RecordingTransport) -> int:
    return sum(len(body) for method, _path, body in recorder.sent if method == "PATCH")


def evidence_path(evidence: Evidence) -> Path:
    return Path(current_app.config["MEDIA_ROOT"]) / evidence.storage_key


def test_an_upload_kept_in_the_phones_file_survives_a_restart(
        live_server, tmp_path, inspector):
    username, site_id = inspector
    photo = _jpeg(3)
    network = FaultyTransport(httpx.HTTPTransport())
    phone = _phone(live_server, tmp_path, transport=network, attempts=3)
    phone.login(username, PASSWORD, "测试手机")
    evidence_id = phone.add_evidence(_check(phone, site_id), "photo", photo,
                                     filename="IMG_0003.jpg")
    phone.push()
    # The upload is made and its first chunk arrives; then the signal is gone.
    network.force("pass", "pass", *["drop_request"] * 10)
    with pytest.raises(ServerUnavailable):
        phone.upload()
    row = phone.files.row(evidence_id)
    assert row["state"] == "pending" and row["url"] and row["offset"] == CHUNK
    phone.close()  # the phone is switched off

    recorder = RecordingTransport()
    with _phone(live_server, tmp_path, transport=recorder) as again:  # the same file
        assert again.upload() == {"uploaded": 1}
        first = recorder.sent[0]
        assert (first[0], first[1]) == ("HEAD", httpx.URL(row["url"]).path)
        assert "POST" not in [method for method, _path, _body in recorder.sent]
        assert sum(len(b) for m, _p, b in recorder.sent if m == "PATCH") == \
            len(photo) - CHUNK
        again.pull()
        again.files.settle()
        assert again.files.counts() == {"ready": 1}
    assert _evidence(evidence_id).state == "ready"
    assert len(_uploads()) == 1


def test_the_file_may_go_before_its_record(live_server, tmp_path, inspector):
    username, site_id = inspector
    photo = _jpeg(4)
    with _phone(live_server, tmp_path) as phone:
        phone.login(username, PASSWORD, "测试手机")
        check_id = _check(phone, site_id)
        phone.push()  # the check is on the server: it proves the file is ours
        evidence_id = phone.add_evidence(check_id, "photo", photo, filename="IMG_0004.jpg")
        assert phone.upload() == {"uploaded": 1}
        assert _evidence(evidence_id) is None  # the file waits for its record
        phone.sync()
        assert phone.record("evidence", evidence_id).data["state"] == "ready"
        assert phone.files.counts() == {"ready": 1}


def test_a_file_waits_while_neither_its_record_nor_its_check_is_on_the_server(
        live_server, tmp_path, inspector):
    username, site_id = inspector
    recorder = RecordingTransport()
    with _phone(live_server, tmp_path, transport=recorder) as phone:
        phone.login(username, PASSWORD, "测试手机")
        evidence_id = phone.add_evidence(_check(phone, site_id), "photo", _jpeg(5))
        assert phone.upload() == {"waiting": 1}
        assert [m for m, _p, _b in recorder.sent] == ["POST"]  # the sign-in only
        phone.sync()
        assert phone.files.row(evidence_id)["state"] == "ready"


def test_a_photo_deleted_before_it_went_is_not_uploaded(live_server, tmp_path, inspector):
    username, site_id = inspector
    with _phone(live_server, tmp_path) as phone:
        phone.login(username, PASSWORD, "测试手机")
        check_id = _check(phone, site_id)
        phone.push()
        evidence_id = phone.add_evidence(check_id, "photo", _jpeg(6))
        phone.delete("evidence", evidence_id)
        assert phone.upload() == {"cancelled": 1}
        assert not (tmp_path / "a.db.files" / evidence_id).exists()
    assert _uploads() == []


def test_lost_requests_and_answers_end_with_one_stored_file_and_one_record(
        live_server, tmp_path, inspector):
    username, site_id = inspector
    photos = [_jpeg(10 + n) for n in range(3)]
    network = FaultyTransport(httpx.HTTPTransport(), seed=11, drop_requests=0.3,
                              drop_responses=0.3, duplicate=0.1, cut=0.1)
    with _phone(live_server, tmp_path, transport=network, attempts=12) as phone:
        for _ in range(20):
            try:
                phone.login(username, PASSWORD, "测试手机")
                break
            except ServerUnavailable:
                continue
        check_id = _check(phone, site_id)
        ids = [phone.add_evidence(check_id, "photo", photo) for photo in photos]
        for _ in range(30):
            try:
                phone.sync()
            except ServerUnavailable:
                continue
            if phone.files.counts() == {"ready": 3}:
                break
        assert phone.files.counts() == {"ready": 3}, phone.files.rows()
        for evidence_id, photo in zip(ids, photos, strict=True):
            assert phone.files.original_sha256(evidence_id) == \
                hashlib.sha256(photo).hexdigest()
    faults = network.counts
    assert faults["dropped_requests"] and faults["dropped_responses"], faults
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence)) == 3
    assert {e.state for e in db.session.scalars(sa.select(Evidence))} == {"ready"}
    # A lost 201 leaves a spare upload behind (it expires); every file is complete once.
    assert {str(u.evidence_id) for u in _uploads() if u.state == "complete"} == set(ids)


def test_capturing_offline_keeps_the_file_and_queues_the_record_together(offline_phone):
    phone = offline_phone()
    photo = _jpeg(7)
    evidence_id = phone.add_evidence("0b8e3f5e-3c61-4f39-9a53-6b4f3d1e2a10", "photo", photo,
                                     filename="IMG_0007.jpg")
    [mutation] = phone.store.outbox()
    assert mutation["entity_id"] == evidence_id and mutation["base_version"] is None
    assert mutation["data"]["sha256"] == hashlib.sha256(photo).hexdigest()
    assert phone.files.row(evidence_id)["state"] == "pending"
    assert Path(phone.files.row(evidence_id)["path"]).read_bytes() == photo
    with pytest.raises(ValueError):
        phone.add_evidence(None, "painting", photo)  # not a kind: nothing is kept
    assert phone.files.counts() == {"pending": 1}


def test_a_unit_contacts_photo_names_its_rectification_and_may_go_first(
        live_server, tmp_path, make):
    inspector = make.user("inspector")
    check = make.check(inspector, make.site())
    finding = make.finding(check, published=True)
    contact = make.user("unit", unit=finding.unit)
    case = make.case(finding, status="rectifying")
    rectification_id = str(make.rectification(case, contact).id)
    username = contact.username
    db.session.commit()
    photo = _jpeg(8)
    with _phone(live_server, tmp_path) as phone:
        phone.login(username, PASSWORD, "测试手机")
        phone.pull()
        assert phone.record("rectification", rectification_id) is not None
        evidence_id = phone.add_evidence(None, "photo", photo, filename="整改后.jpg",
                                         rectification_id=rectification_id)
        assert phone.upload() == {"uploaded": 1}  # before the record: the file waits
        phone.upsert("rectification", rectification_id, {"evidence_ids": [evidence_id]})
        phone.sync()
        assert phone.record("evidence", evidence_id).data["state"] == "ready"
        assert phone.files.counts() == {"ready": 1}
