"""tus 1.0.0 at /api/v1/uploads: core, creation, creation-with-upload, checksum,
termination, expiration — and what the server refuses."""

import base64
import hashlib
import os
import uuid
from datetime import timedelta
from pathlib import Path

from server.extensions import db
from server.models import Upload, utcnow


def _path(location: str) -> str:
    return "/" + location.split("/", 3)[3]


def test_options_describes_the_server_without_a_token(client):
    response = client.options("/api/v1/uploads")
    assert response.status_code == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    assert set(response.headers["Tus-Extension"].split(",")) == {
        "creation", "creation-with-upload", "checksum", "termination", "expiration"}
    assert response.headers["Tus-Max-Size"] == str(2 * 1024**3)
    assert set(response.headers["Tus-Checksum-Algorithm"].split(",")) == {"sha1", "md5",
                                                                         "sha256"}
    assert response.headers["Tus-Resumable"] == "1.0.0"


def test_cors_exposes_the_tus_headers(client, uploader, blob):
    up = uploader()
    response = up.create(blob)
    exposed = response.headers["Access-Control-Expose-Headers"]
    for name in ("Location", "Upload-Offset", "Upload-Length", "Tus-Resumable"):
        assert name in exposed
    preflight = client.options("/api/v1/uploads/abc", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "PATCH"})
    assert "PATCH" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Upload-Offset" in preflight.headers["Access-Control-Allow-Headers"]


def test_create_then_patch_in_two_chunks_then_head(uploader, blob):
    up = uploader()
    created = up.create(blob)
    assert created.headers["Upload-Offset"] == "0" and "Upload-Expires" in created.headers
    location = _path(created.headers["Location"])
    first = up.patch(location, blob[:100_000], 0)
    assert first.headers["Upload-Offset"] == "100000"
    assert up.head(location).headers["Upload-Offset"] == "100000"
    up.patch(location, blob[100_000:], 100_000)
    head = up.head(location)
    assert head.headers["Upload-Offset"] == head.headers["Upload-Length"] == str(len(blob))
    assert head.headers["Cache-Control"] == "no-store"


def test_creation_with_upload_sends_the_first_bytes(uploader, blob, client):
    up = uploader()
    response = client.post("/api/v1/uploads", data=blob[:1000], headers=up.headers | {
        "Upload-Length": str(len(blob)), "Content-Type": "application/offset+octet-stream"}
        | up.metadata(blob))
    assert response.status_code == 201 and response.headers["Upload-Offset"] == "1000"


def test_wrong_offset_is_409_and_changes_nothing(uploader, blob):
    up = uploader()
    location = _path(up.create(blob).headers["Location"])
    up.patch(location, blob[:10], 0)
    up.patch(location, blob[20:30], 20, status=409)
    assert up.head(location).headers["Upload-Offset"] == "10"


def test_wrong_content_type_is_415(uploader, blob):
    up = uploader()
    location = _path(up.create(blob).headers["Location"])
    up.patch(location, blob[:10], 0, status=415,
             headers={"Content-Type": "application/octet-stream"})


def test_other_tus_version_is_412(uploader, blob, client):
    up = uploader()
    response = client.post("/api/v1/uploads", headers=up.headers | {
        "Tus-Resumable": "0.2.2", "Upload-Length": "10"} | up.metadata(blob))
    assert response.status_code == 412 and response.headers["Tus-Version"] == "1.0.0"
    assert response.headers["Tus-Resumable"] == "1.0.0"


def test_checksum_mismatch_is_460_chunk_discarded_offset_unchanged(uploader, blob):
    up = uploader()
    location = _path(up.create(blob).headers["Location"])
    up.patch(location, blob[:1000], 0)
    wrong = "sha1 " + base64.b64encode(hashlib.sha1(b"other").digest()).decode()  # noqa: S324
    up.patch(location, blob[1000:2000], 1000, status=460, headers={"Upload-Checksum": wrong})
    assert up.head(location).headers["Upload-Offset"] == "1000"
    offset = 1000
    for algorithm in ("sha1", "md5", "sha256"):
        chunk = blob[offset:offset + 1000]
        good = algorithm + " " + base64.b64encode(hashlib.new(algorithm, chunk).digest()).decode()
        up.patch(location, chunk, offset, headers={"Upload-Checksum": good})
        offset += 1000
    assert up.head(location).headers["Upload-Offset"] == "4000"


def test_unknown_checksum_algorithm_is_400(uploader, blob):
    up = uploader()
    location = _path(up.create(blob).headers["Location"])
    up.patch(location, blob[:10], 0, status=400, headers={"Upload-Checksum": "crc32 AAAA"})


def test_whole_file_with_wrong_sha256_is_460_and_nothing_is_kept(uploader, blob, app):
    up = uploader()
    claimed = hashlib.sha256(b"something else").hexdigest()
    location = _path(up.create(blob, sha256=claimed).headers["Location"])
    up.patch(location, blob, 0, status=460)
    assert up.head(location).status_code == 410
    upload = db.session.scalar(db.select(Upload))
    assert upload.state == "failed"
    staged = list((__import__("pathlib").Path(app.config["UPLOAD_DIR"])).glob("*.part"))
    assert staged == []


def test_a_body_of_many_reads_is_checked_whole_and_chunk_by_chunk(uploader, app):
    """Bodies longer than one read are hashed in a thread beside the request: the same
    sums, a wrong chunk still refused, the whole file still checked."""
    data = os.urandom(3 * 1024 * 1024 + 17)
    up = uploader()
    location = _path(up.create(data).headers["Location"])
    first, rest = data[:2 * 1024 * 1024 + 1], data[2 * 1024 * 1024 + 1:]
    wrong = "sha256 " + base64.b64encode(hashlib.sha256(rest).digest()).decode()
    up.patch(location, first, 0, status=460, headers={"Upload-Checksum": wrong})
    assert up.head(location).headers["Upload-Offset"] == "0"
    good = "sha256 " + base64.b64encode(hashlib.sha256(first).digest()).decode()
    up.patch(location, first, 0, headers={"Upload-Checksum": good})
    done = up.patch(location, rest, len(first))
    assert done.headers["Upload-Offset"] == str(len(data))
    upload = db.session.scalar(db.select(Upload))
    assert (upload.state, upload.sha256) == ("complete", hashlib.sha256(data).hexdigest())

    other = uploader()
    claimed = hashlib.sha256(data[::-1]).hexdigest()
    location = _path(other.create(data, sha256=claimed).headers["Location"])
    other.patch(location, data, 0, status=460)  # the whole file is not what was named
    assert other.head(location).status_code == 410
    assert list(Path(app.config["UPLOAD_DIR"]).glob("*.part")) == []


def test_same_file_again_for_the_same_evidence_finishes_at_once(uploader, blob):
    up = uploader()
    evidence_id = uuid.uuid4()
    location = _path(up.create(blob, evidence_id).headers["Location"])
    up.patch(location, blob, 0)
    again = up.create(blob, evidence_id)
    assert again.headers["Upload-Offset"] == str(len(blob))
    assert up.head(_path(again.headers["Location"])).headers["Upload-Offset"] == str(len(blob))


def test_termination_removes_the_upload(uploader, blob, client):
    up = uploader()
    location = _path(up.create(blob).headers["Location"])
    up.patch(location, blob[:10], 0)
    assert client.delete(location, headers=up.headers).status_code == 204
    assert up.head(location).status_code == 404


def test_expired_upload_is_gone(uploader, blob):
    up = uploader()
    location = _path(up.create(blob).headers["Location"])
    upload = db.session.scalar(db.select(Upload))
    upload.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert up.head(location).status_code == 410


def test_another_users_upload_is_not_found(uploader, blob, make):
    up, other = uploader(), uploader()
    location = _path(up.create(blob).headers["Location"])
    assert other.head(location).status_code == 404
    other.patch(location, blob[:10], 0, status=404)


def test_upload_for_someone_elses_check_is_refused(uploader, blob, make):
    owner = uploader()
    intruder = uploader(check=owner.check)
    intruder.create(blob, status=403)
    assert db.session.scalar(db.select(db.func.count(Upload.id))) == 0


def test_bad_metadata_is_400_listing_fields(uploader, blob, client):
    up = uploader()
    response = client.post("/api/v1/uploads", headers=up.headers | {
        "Upload-Length": "10", "Upload-Metadata": "kind " + base64.b64encode(b"x").decode()})
    assert response.status_code == 400
    fields = {e["field"] for e in response.json["errors"]}
    assert {"evidence_id", "kind", "sha256"} <= fields


def test_larger_than_max_size_is_413(uploader, blob, client, app):
    up = uploader()
    response = client.post("/api/v1/uploads", headers=up.headers | {
        "Upload-Length": str(app.config["TUS_MAX_SIZE"] + 1)} | up.metadata(blob))
    assert response.status_code == 413


def test_patch_needs_a_token(uploader, blob, client):
    up = uploader()
    location = _path(up.create(blob).headers["Location"])
    response = client.patch(location, data=b"x", headers={
        "Tus-Resumable": "1.0.0", "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream"})
    assert response.status_code == 401 and response.headers["Tus-Resumable"] == "1.0.0"


def test_a_second_writer_waits_while_one_holds_the_upload(uploader, blob):
    from server.evidence import staging

    up = uploader()
    location = _path(up.create(blob).headers["Location"])
    upload = db.session.scalar(db.select(Upload))
    token, _offset = staging.take_lease(upload)  # as a PATCH streaming in another process would
    response = up.patch(location, blob[:10], 0, status=423)
    assert int(response.headers["Retry-After"]) > 0
    staging.release_lease(upload.id, token)
    up.patch(location, blob[:10], 0)


def test_an_upload_resumed_in_another_process_is_checked_from_the_disk(uploader, blob):
    """This process did not see the first bytes (another web host took them): the
    whole file's sha256 is read from the disk, never taken on trust."""
    from server.evidence import staging

    for tamper, expected in ((False, 204), (True, 460)):
        up = uploader()
        location = _path(up.create(blob).headers["Location"])
        up.patch(location, blob[:100_000], 0)
        staging._hashers.clear()  # as in a fresh process
        if tamper:  # the bytes on disk are not those the phone sent
            upload = db.session.scalar(db.select(Upload).where(Upload.length == len(blob),
                                                               Upload.offset == 100_000))
            with open(staging.staging_path(upload.id), "r+b") as f:
                f.write(b"\0" * 10)
        up.patch(location, blob[100_000:], 100_000, status=expected)


def test_first_bytes_of_the_wrong_type_make_no_upload(client, uploader, blob):
    up = uploader()
    response = client.post("/api/v1/uploads", data=blob[:1000], headers=up.headers | {
        "Upload-Length": str(len(blob)), "Content-Type": "application/octet-stream"}
        | up.metadata(blob))
    assert response.status_code == 415
    assert response.json["type"].endswith("/unsupported-media-type")
    assert db.session.scalar(db.select(db.func.count()).select_from(Upload)) == 0
