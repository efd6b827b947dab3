"""Evidence end to end: the record and the file meet in either order, the media job reads
where and when it was taken, makes derived files, and judges it against the geofence."""

import hashlib
import io
import uuid
from datetime import UTC, datetime, timedelta, timezone

from PIL.TiffImagePlugin import IFDRational as R

from server.extensions import db
from server.models import Evidence
from tests.media.photo_samples import exif_for, scene
from tests.server.sync.conftest import Phone, mutation

# 34°15'36.12" N, 117°11'0.5" E: 34.26003, 117.18347
GPS = {"GPSLatitudeRef": "N", "GPSLatitude": (R(34, 1), R(15, 1), R(3612, 100)),
       "GPSLongitudeRef": "E", "GPSLongitude": (R(117, 1), R(11, 1), R(1, 2)),
       "GPSHPositioningError": R(5, 1)}


def _photo(taken: datetime, gps=GPS, seed=3) -> bytes:
    local = taken.astimezone(timezone(timedelta(hours=8)))
    exif = exif_for(gps=gps, make="HUAWEI", model="P60 Pro", times={
        "DateTimeOriginal": local.strftime("%Y:%m:%d %H:%M:%S"),
        "OffsetTimeOriginal": "+08:00"})
    out = io.BytesIO()
    scene(seed, (1200, 900)).save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def _evidence_mutation(check_id, data: bytes, evidence_id):
    return mutation("evidence", evidence_id, {
        "check_id": str(check_id), "kind": "photo", "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data), "filename": "IMG_20261130_093005.jpg"})


def _scenario(client, make, uploader, site_at=(34.2600, 117.1835)):
    user = make.user("supervisor")
    site = make.site(lat=site_at[0], lon=site_at[1], radius_m=300)
    check = make.check(user, site)
    return user, check, uploader(user, check), Phone(client, user)


def _upload(up, data, evidence_id):
    location = "/" + up.create(data, evidence_id).headers["Location"].split("/", 3)[3]
    up.patch(location, data, 0)


def _evidence(evidence_id) -> Evidence:
    db.session.rollback()
    return db.session.get(Evidence, evidence_id)


def test_record_first_then_file_gives_ready_evidence_inside_the_fence(client, make, uploader):
    user, check, up, phone = _scenario(client, make, uploader)
    data, evidence_id = _photo(check.started_at + timedelta(minutes=5)), uuid.uuid4()
    assert phone.push_one(_evidence_mutation(check.id, data, evidence_id))["status"] == "applied"
    assert _evidence(evidence_id).state == "awaiting_upload"
    _upload(up, data, evidence_id)
    evidence = _evidence(evidence_id)
    assert evidence.state == "ready", evidence.failure
    assert evidence.media["device"] == {"make": "HUAWEI", "model": "P60 Pro"}
    assert abs(evidence.media["gps"]["lat"] - 34.26003) < 1e-4
    assert evidence.media["captured_at"].endswith("+08:00")
    assert (evidence.media["width"], evidence.media["height"]) == (1200, 900)
    assert evidence.geofence == "inside" and evidence.distance_m < 50
    assert set(evidence.derivatives) == {"thumb.jpg", "preview.jpg"}
    assert evidence.flags == []


def test_file_first_then_record_meet_by_evidence_id(client, make, uploader):
    user, check, up, phone = _scenario(client, make, uploader)
    data, evidence_id = _photo(check.started_at), uuid.uuid4()
    _upload(up, data, evidence_id)
    assert _evidence(evidence_id) is None
    phone.push_one(_evidence_mutation(check.id, data, evidence_id))
    assert _evidence(evidence_id).state == "ready"


def test_photo_taken_far_away_and_hours_before_the_check_is_flagged(client, make, uploader):
    user, check, up, phone = _scenario(client, make, uploader, site_at=(34.2100, 117.3000))
    data, evidence_id = _photo(check.started_at - timedelta(hours=5)), uuid.uuid4()
    phone.push_one(_evidence_mutation(check.id, data, evidence_id))
    _upload(up, data, evidence_id)
    evidence = _evidence(evidence_id)
    assert evidence.geofence == "outside" and evidence.distance_m > 5000
    assert [f["flag"] for f in evidence.flags] == ["captured_outside_check"]


def test_the_same_scene_twice_at_a_site_is_a_near_duplicate(client, make, uploader):
    user, check, up, phone = _scenario(client, make, uploader)
    # The same scene a second later: other bytes (the EXIF time differs), same picture.
    photos = [_photo(check.started_at, seed=9), _photo(check.started_at + timedelta(seconds=1),
                                                        seed=9)]
    ids = [uuid.uuid4(), uuid.uuid4()]
    for data, evidence_id in zip(photos, ids, strict=True):
        phone.push_one(_evidence_mutation(check.id, data, evidence_id))
        _upload(up, data, evidence_id)
    flags = _evidence(ids[1]).flags
    assert [f["flag"] for f in flags] == ["near_duplicate"]
    assert flags[0]["evidence_id"] == str(ids[0])


def test_a_text_file_claiming_to_be_a_photo_fails_with_a_reason(client, make, uploader):
    user, check, up, phone = _scenario(client, make, uploader)
    data, evidence_id = b"this is not a photo\n" * 50, uuid.uuid4()
    phone.push_one(_evidence_mutation(check.id, data, evidence_id))
    _upload(up, data, evidence_id)
    evidence = _evidence(evidence_id)
    assert evidence.state == "failed" and "format" in evidence.failure


def test_original_is_served_with_ranges_and_derivatives_to_those_who_see_it(
        client, make, uploader):
    user, check, up, phone = _scenario(client, make, uploader)
    data, evidence_id = _photo(check.started_at), uuid.uuid4()
    phone.push_one(_evidence_mutation(check.id, data, evidence_id))
    _upload(up, data, evidence_id)
    headers = phone.headers
    record = client.get(f"/api/v1/evidence/{evidence_id}", headers=headers).json
    assert record["state"] == "ready" and set(record["urls"]) == {"original", "thumb.jpg",
                                                                  "preview.jpg"}
    whole = client.get(record["urls"]["original"], headers=headers)
    assert whole.status_code == 200 and whole.data == data
    part = client.get(record["urls"]["original"], headers=headers | {"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.data == data[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    thumb = client.get(record["urls"]["thumb.jpg"], headers=headers)
    assert thumb.status_code == 200 and thumb.data[:2] == b"\xff\xd8"
    beyond = client.get(record["urls"]["original"], headers=headers | {
        "Range": f"bytes={len(data) + 10}-"})
    assert beyond.status_code == 416
    stranger = Phone(client, make.user("supervisor"))
    assert client.get(f"/api/v1/evidence/{evidence_id}",
                      headers=stranger.headers).status_code == 404
    assert client.get(record["urls"]["original"], headers=stranger.headers).status_code == 404


def test_clock_offset_comes_from_the_push_date_header(client, make, uploader):
    user, check, up, phone = _scenario(client, make, uploader)
    data, evidence_id = _photo(check.started_at), uuid.uuid4()
    ahead = (datetime.now(UTC) + timedelta(minutes=7)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    response = client.post("/api/v1/sync/push", headers=phone.headers | {"Date": ahead},
                           json={"device_id": phone.device_id, "mutations": [
                               _evidence_mutation(check.id, data, evidence_id)]})
    assert response.status_code == 200
    assert 400 < _evidence(evidence_id).clock_offset_s < 440


def _recording(check_id, path, kind, evidence_id):
    data = path.read_bytes()
    return data, mutation("evidence", evidence_id, {
        "check_id": str(check_id), "kind": kind, "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data), "filename": path.name})


def test_a_3gp_video_gets_its_location_a_poster_and_a_playable_preview(
        client, make, uploader, tmp_path):
    from tests.media.avfiles import ffmpeg, make_videos

    user, check, up, phone = _scenario(client, make, uploader, site_at=(34.2600, 117.1900))
    videos = make_videos(tmp_path)
    located = tmp_path / "located.3gp"  # the old 3GP with the Android location tag
    ffmpeg("-i", videos["feature.3gp"], "-c", "copy", "-metadata",
           "location=+34.2601+117.1901/", located)
    data, m = _recording(check.id, located, "video", evidence_id := uuid.uuid4())
    phone.push_one(m)
    _upload(up, data, evidence_id)
    evidence = _evidence(evidence_id)
    assert evidence.state == "ready", evidence.failure
    assert evidence.media["duration_s"] > 1 and evidence.geofence == "inside"
    assert {"poster.jpg", "preview.mp4"} <= set(evidence.derivatives)


def test_an_amr_voice_note_gets_a_browser_playable_preview(client, make, uploader, tmp_path):
    from tests.media.avfiles import write_amr

    user, check, up, phone = _scenario(client, make, uploader)
    data, m = _recording(check.id, write_amr(tmp_path / "note.amr"), "audio",
                         evidence_id := uuid.uuid4())
    phone.push_one(m)
    _upload(up, data, evidence_id)
    evidence = _evidence(evidence_id)
    assert evidence.state == "ready", evidence.failure
    assert set(evidence.derivatives) == {"preview.m4a"} and evidence.geofence == "unknown"


def test_a_browsers_webm_voice_note_is_audio_and_a_video_claimed_as_audio_fails(
        client, make, uploader, tmp_path):
    """Chrome's MediaRecorder writes a voice note as WebM, the container of videos: the
    streams inside, not the container, decide; a file with pictures is not audio."""
    from tests.media.avfiles import make_audio, make_videos

    user, check, up, phone = _scenario(client, make, uploader)
    voice = make_audio(tmp_path)["voice.webm"]
    data, m = _recording(check.id, voice, "audio", voice_id := uuid.uuid4())
    phone.push_one(m)
    _upload(up, data, voice_id)
    evidence = _evidence(voice_id)
    assert evidence.state == "ready", evidence.failure
    assert evidence.media["duration_s"] > 1 and evidence.media["width"] is None

    data, m = _recording(check.id, make_videos(tmp_path)["recorder.webm"], "audio",
                         film_id := uuid.uuid4())
    phone.push_one(m)
    _upload(up, data, film_id)
    evidence = _evidence(film_id)
    assert evidence.state == "failed"
    assert evidence.failure == "The file is video (webm) but the record says audio."


def test_a_batch_of_records_meets_the_files_already_uploaded(client, make, uploader):
    """Photos uploaded on the site's Wi-Fi, their records synced later in one batch: the
    records with a file are processed, the one without waits for its upload."""
    user, check, up, phone = _scenario(client, make, uploader)
    photos = [(_photo(check.started_at, seed=n), uuid.uuid4()) for n in range(3)]
    for data, evidence_id in photos[:2]:
        _upload(up, data, evidence_id)
    results = phone.push(*[_evidence_mutation(check.id, d, e) for d, e in photos])["results"]
    assert [r["status"] for r in results] == ["applied"] * 3
    assert [_evidence(e).state for _d, e in photos] == ["ready", "ready", "awaiting_upload"]


def test_a_file_and_record_that_missed_each_other_meet_at_the_sweep(client, make, uploader,
                                                                    runner):
    """The upload finished while the record's push was in flight and neither saw the
    other: the record waits with its file stored, until the sweeper brings them together."""
    user, check, up, phone = _scenario(client, make, uploader)
    data, evidence_id = _photo(check.started_at, seed=7), uuid.uuid4()
    _upload(up, data, evidence_id)
    stranded = Evidence(id=evidence_id, check_id=check.id, kind="photo", size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(), created_by=user.id)
    db.session.add(stranded)  # as the racing push left it: no file attached
    db.session.commit()
    assert _evidence(evidence_id).state == "awaiting_upload"
    assert runner.invoke(args=["requeue"]).exit_code == 0
    assert _evidence(evidence_id).state == "ready"


def test_deleted_evidence_and_its_files_are_no_longer_served(client, make, uploader):
    user, check, up, phone = _scenario(client, make, uploader)
    data, evidence_id = _photo(check.started_at), uuid.uuid4()
    phone.push_one(_evidence_mutation(check.id, data, evidence_id))
    _upload(up, data, evidence_id)
    auth = {"Authorization": phone.headers["Authorization"]}
    assert client.get(f"/api/v1/evidence/{evidence_id}/original", headers=auth).status_code \
        == 200
    assert phone.push_one(mutation("evidence", evidence_id, op="delete"))["status"] == "applied"
    for path in ("", "/original", "/files/thumb.jpg"):
        assert client.get(f"/api/v1/evidence/{evidence_id}{path}", headers=auth).status_code \
            == 404
