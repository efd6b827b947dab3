"""tuspy, the tus project's own Python client, against the real server over HTTP."""

import hashlib
import os
import uuid

import pytest
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError

from server.extensions import db
from server.models import Upload
from tests.conftest import login


@pytest.fixture
def phone(client, make, live_server):
    user = make.user("supervisor")
    check = make.check(user, make.site())
    token = login(client, user.username).json["token"]
    return {"url": f"{live_server}/api/v1/uploads", "check_id": str(check.id),
            "headers": {"Authorization": f"Bearer {token}"}}


def _uploader(phone, stream, data, *, url=None, chunk_size=64 * 1024, evidence_id=None):
    """tuspy given an open stream: given a path it leaves the file open."""
    tus = tus_client.TusClient(phone["url"], headers=phone["headers"])
    metadata = {"evidence_id": evidence_id or str(uuid.uuid4()), "check_id": phone["check_id"],
                "kind": "photo", "filename": "IMG_2041.jpg", "filetype": "image/jpeg",
                "sha256": hashlib.sha256(data).hexdigest()}
    return tus.uploader(file_stream=stream, url=url, chunk_size=chunk_size, metadata=metadata,
                        upload_checksum=True, retries=0)


def _stored(upload_url: str) -> Upload:
    db.session.rollback()
    return db.session.get(Upload, uuid.UUID(upload_url.rsplit("/", 1)[1]))


def test_tuspy_uploads_in_small_chunks_with_checksums(phone, tmp_path):
    data = os.urandom(700_000)
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    with open(path, "rb") as stream:
        uploader = _uploader(phone, stream, data, chunk_size=50_000)
        uploader.upload()
    upload = _stored(uploader.url)
    assert upload.state == "complete" and upload.offset == len(data)


def test_tuspy_resumes_after_an_interruption(phone, tmp_path):
    data = os.urandom(500_000)
    path = tmp_path / "video.mp4"
    path.write_bytes(data)
    with open(path, "rb") as stream:
        first = _uploader(phone, stream, data, chunk_size=100_000)
        first.upload_chunk()
        first.upload_chunk()  # then the phone loses signal
    assert _stored(first.url).offset == 200_000
    with open(path, "rb") as stream:
        again = _uploader(phone, stream, data, url=first.url, chunk_size=100_000)
        assert again.offset == 200_000  # learnt from HEAD
        again.upload()
    assert _stored(first.url).state == "complete"


def test_tuspy_sees_a_refusal_for_someone_elses_check(phone, tmp_path, make):
    data = os.urandom(1000)
    path = tmp_path / "x.jpg"
    path.write_bytes(data)
    phone["check_id"] = str(make.check(make.user("supervisor"), make.site()).id)
    with open(path, "rb") as stream, pytest.raises(TusCommunicationError):
        _uploader(phone, stream, data).upload()
