"""Whose bytes are whose: nobody can make their file the original of another's evidence,
a unit contact uploads only for their unit's rectification, and what waits for a record
is limited per uploader."""

import hashlib
import io
import os
import uuid
from datetime import timedelta

import pytest

from media.storage import original_key
from server.evidence import jobs, uploads
from server.evidence.storage import storage
from server.extensions import db
from server.models import Upload, utcnow
from tests.server.evidence.test_evidence_pipeline import (
    _evidence,
    _evidence_mutation,
    _photo,
    _scenario,
    _upload,
)
from tests.server.sync.conftest import Phone, mutation


def _path(response) -> str:
    return "/" + response.headers["Location"].split("/", 3)[3]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_an_upload_before_the_record_cannot_squat_anothers_evidence(client, make, uploader):
    """The evidence id leaked before its record arrived: the attacker's bytes stay theirs,
    the owner's record is applied, and the original is the owner's file."""
    owner, check, owner_up, owner_phone = _scenario(client, make, uploader)
    data, evidence_id = _photo(check.started_at + timedelta(minutes=5)), uuid.uuid4()
    attacker = uploader()  # another supervisor, with a check of their own
    forged = _photo(check.started_at, seed=9)
    _upload(attacker, forged, evidence_id)  # completes: their bytes, their key
    result = owner_phone.push_one(_evidence_mutation(check.id, data, evidence_id))
    assert result["status"] == "applied"
    assert _evidence(evidence_id).state == "awaiting_upload"  # the forged file did not meet
    _upload(owner_up, data, evidence_id)
    evidence = _evidence(evidence_id)
    assert evidence.state == "ready"
    assert evidence.storage_key == original_key(evidence_id, owner.id)
    original = client.get(f"/api/v1/evidence/{evidence_id}/original",
                          headers={"Authorization": owner_phone.headers["Authorization"]})
    assert _sha(original.data) == _sha(data) == evidence.sha256


def test_a_squatted_upload_finished_after_the_record_is_refused(client, make, uploader):
    owner, check, _owner_up, owner_phone = _scenario(client, make, uploader)
    data, evidence_id = _photo(check.started_at), uuid.uuid4()
    owner_phone.push_one(_evidence_mutation(check.id, data, evidence_id))
    uploader().create(data, evidence_id, status=403)  # the record is not theirs


def test_the_stored_file_is_checked_against_the_record_when_they_meet(client, make, uploader):
    """If the stored bytes are not those the record names (changed in storage), the media
    job fails the evidence with a reason instead of processing another file."""
    owner, check, up, phone = _scenario(client, make, uploader)
    data, evidence_id = _photo(check.started_at), uuid.uuid4()
    key = original_key(evidence_id, owner.id)
    storage().save(key, io.BytesIO(b"not the photo"))  # other bytes hold the key already
    created = up.create(data, evidence_id)
    up.patch(_path(created), data, 0, status=409)  # another file holds the key: nothing kept
    assert up.head(_path(created)).status_code == 410
    # Storage tampered with after a good upload: the job notices.
    other_id = uuid.uuid4()
    _upload(up, data, other_id)
    tampered = original_key(other_id, owner.id)
    storage().delete(tampered)
    storage().save(tampered, io.BytesIO(b"X" + data[1:]))
    phone.push_one(_evidence_mutation(check.id, data, other_id))
    evidence = _evidence(other_id)
    assert evidence.state == "failed" and "sha256" in evidence.failure


def test_another_file_for_evidence_one_already_stored_is_409_never_complete(uploader, blob):
    up = uploader()
    evidence_id = uuid.uuid4()
    _upload(up, blob, evidence_id)
    again = up.create(blob, evidence_id)  # the same file: complete at once
    assert again.headers["Upload-Offset"] == str(len(blob))
    up.create(os.urandom(1000), evidence_id, status=409)


def test_two_different_files_racing_for_one_evidence_keep_the_first(uploader, blob):
    up = uploader()
    evidence_id, other = uuid.uuid4(), os.urandom(len(blob))
    first, second = up.create(blob, evidence_id), up.create(other, evidence_id)
    up.patch(_path(first), blob, 0)
    up.patch(_path(second), other, 0, status=409)
    assert up.head(_path(second)).status_code == 410


@pytest.fixture
def unit_case(make):
    """A published finding of unit A with a notified case, A's contact and a rectification."""
    unit = make.unit()
    inspector = make.user("inspector")
    check = make.check(inspector, make.site(unit))
    case = make.case(make.finding(check, published=True))
    contact = make.user("unit", unit=unit)
    return contact, make.rectification(case, contact)


def _unit_create(client, user, data, **meta):
    from sync.tus import encode_metadata
    from tests.conftest import login

    token = login(client, user.username).json["token"]
    values = {"evidence_id": str(uuid.uuid4()), "kind": "photo", "sha256": _sha(data)} | meta
    return client.post("/api/v1/uploads", headers={
        "Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0",
        "Upload-Length": str(len(data)), "Upload-Metadata": encode_metadata(values)})


def test_a_unit_contact_uploads_only_for_a_rectification_of_their_unit(client, make, unit_case,
                                                                        blob):
    contact, rect = unit_case
    assert _unit_create(client, contact, blob).status_code == 403  # no rectification named
    assert _unit_create(client, contact, blob,
                        rectification_id=str(rect.id)).status_code == 201
    stranger = make.user("unit")  # a contact of another unit
    assert _unit_create(client, stranger, blob,
                        rectification_id=str(rect.id)).status_code == 403
    assert _unit_create(client, stranger, blob,
                        rectification_id=str(uuid.uuid4())).status_code == 403


def test_uploads_waiting_for_their_records_are_limited_per_user(app, client, make, uploader):
    app.config.update(UPLOADS_WITHOUT_RECORD=2, UPLOAD_BYTES_WITHOUT_RECORD=5000)
    up = uploader()
    one, evidence_id = os.urandom(1000), uuid.uuid4()
    up.create(one, evidence_id), up.create(os.urandom(1000))
    assert up.create(os.urandom(10), status=429).json["status"] == 429
    other = uploader()  # the limit is per user
    other.create(os.urandom(4000))
    assert other.create(os.urandom(2000), status=413).json["status"] == 413
    # A record of theirs claims an upload: it no longer waits.
    Phone(client, up.user).push_one(mutation("evidence", evidence_id, {
        "check_id": str(up.check.id), "kind": "photo", "sha256": _sha(one), "size": 1000}))
    up.create(os.urandom(10))


def test_finished_uploads_no_record_claimed_are_purged_with_their_bytes(app, uploader, blob):
    up = uploader()
    evidence_id = uuid.uuid4()
    _upload(up, blob, evidence_id)
    key = original_key(evidence_id, up.user.id)
    assert storage().exists(key)
    upload = db.session.scalar(db.select(Upload).where(Upload.evidence_id == evidence_id))
    upload.completed_at = utcnow() - timedelta(seconds=app.config["UPLOAD_EXPIRES_SECONDS"] + 1)
    db.session.commit()
    assert uploads.purge_expired() == 1
    assert not storage().exists(key) and db.session.get(Upload, upload.id) is None


def test_a_claimed_upload_is_never_purged(app, client, make, uploader):
    owner, check, up, phone = _scenario(client, make, uploader)
    data, evidence_id = _photo(check.started_at), uuid.uuid4()
    _upload(up, data, evidence_id)
    phone.push_one(_evidence_mutation(check.id, data, evidence_id))
    db.session.execute(db.update(Upload).values(
        completed_at=utcnow() - timedelta(days=30)))
    db.session.commit()
    assert uploads.purge_expired() == 0
    assert storage().exists(_evidence(evidence_id).storage_key)


def test_the_sweeper_joins_only_the_creators_file_to_a_record(client, make, uploader):
    owner, check, up, phone = _scenario(client, make, uploader)
    data, evidence_id = _photo(check.started_at), uuid.uuid4()
    _upload(uploader(), data, evidence_id)  # someone else's copy of the very same bytes
    phone.push_one(_evidence_mutation(check.id, data, evidence_id))
    jobs.requeue()
    assert _evidence(evidence_id).state == "awaiting_upload"


@pytest.mark.parametrize("metadata", [
    "evidence_id ,kind cGhvdG8=",                                  # empty value
    "evidence_id,kind cGhvdG8=",                                   # key only
    "evidence_id YQBi,kind cGhvdG8=",                              # NUL ("a\0b")
])
def test_broken_upload_metadata_is_400(client, uploader, metadata):
    up = uploader()
    response = client.post("/api/v1/uploads", headers=up.headers | {
        "Upload-Length": "10", "Upload-Metadata": metadata})
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


def test_a_sha256_with_a_trailing_newline_is_400(uploader, blob):
    up = uploader()
    response = up.create(blob, status=400, sha256=_sha(blob) + "\n")
    assert response.json["errors"][0]["field"] == "sha256"
