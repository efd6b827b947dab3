"""The evidence package of a case: every original with the sha256 its record names, the
derived files, a manifest with the custody trail, a page that shows it safely, and
verify-package naming every file changed, added or removed since."""

import hashlib
import io
import json
import os
import tracemalloc
import uuid
import zipfile
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from PIL.TiffImagePlugin import IFDRational as R

from media.storage import original_key
from server.audit.chain import link, record
from server.cases.package import write_package
from server.cases.package_check import verify_package
from server.evidence.pipeline import process
from server.evidence.storage import storage
from server.extensions import db
from server.models import AuditEvent, Evidence
from tests.media.photo_samples import exif_for, scene

SCRIPT = "<script>alert(1)</script>"
GPS = {"GPSLatitudeRef": "N", "GPSLatitude": (R(34, 1), R(15, 1), R(3612, 100)),
       "GPSLongitudeRef": "E", "GPSLongitude": (R(117, 1), R(11, 1), R(1, 2))}


def _jpeg(seed: int) -> bytes:
    out = io.BytesIO()
    scene(seed, (800, 600)).save(out, "JPEG", quality=85,
                                 exif=exif_for(gps=GPS, make="HUAWEI").tobytes())
    return out.getvalue()


def _evidence(author, data: bytes | None, check=None, **links) -> Evidence:
    """Evidence whose file was stored and processed, as after an upload; with no data,
    evidence whose file never arrived."""
    evidence = Evidence(id=uuid.uuid4(), check_id=check.id if check else None, kind="photo",
                        sha256=hashlib.sha256(data or b"never sent").hexdigest(),
                        size=len(data or b""), filename="IMG_0001.jpg",
                        created_by=author.id, location={"lat": 34.26, "lon": 117.18},
                        captured_at=check.started_at + timedelta(minutes=5) if check else None,
                        **links)
    if data is not None:
        evidence.storage_key = original_key(evidence.id, author.id)
        storage().save(evidence.storage_key, io.BytesIO(data))
        evidence.state = "processing"
    db.session.add(evidence)
    db.session.flush()
    if data is not None:
        process(evidence)
        assert evidence.state == "ready", evidence.failure
    db.session.commit()
    return evidence


@pytest.fixture
def case_file(make, runner, tmp_path):
    """A covert check's case with evidence linked to its finding, listed by it, never
    uploaded, and of the unit's rectification; packaged to ``path``."""
    inspector, reviewer = make.user("inspector"), make.user("reviewer")
    site = make.site(lat=34.26, lon=117.1835)  # where GPS puts the photos
    plan = make.plan([site], [inspector])
    check = make.check(inspector, site, mode="covert", plan=plan)
    finding, other = make.finding(check), make.finding(check)
    finding.description = f"上班时间离岗 {SCRIPT}"
    linked = _evidence(inspector, _jpeg(1), check, finding_id=finding.id)
    listed = _evidence(inspector, _jpeg(2), check)
    absent = _evidence(inspector, None, check, finding_id=finding.id)
    elsewhere = _evidence(inspector, _jpeg(3), check, finding_id=other.id)
    finding.evidence_ids = [str(listed.id), "not-an-id"]
    linked.review_state, linked.review_note = "accepted", "<b>清楚</b>"
    linked.reviewed_by, linked.reviewed_at = reviewer.id, check.started_at
    case = make.case(finding)
    unit_user = make.user("unit", unit=site.unit)
    rect = make.rectification(case, unit_user)
    fixed = _evidence(unit_user, _jpeg(4), rectification_id=rect.id)
    record("evidence_reviewed", actor=reviewer, subject=linked, detail={"to": "accepted"})
    record("case_notified", actor=reviewer, subject=case)
    record("case_notified", actor=reviewer, subject=make.case(other))
    db.session.commit()
    path = tmp_path / "case.zip"
    result = runner.invoke(args=["case", "package", str(case.id), "--out", str(path)])
    assert result.exit_code == 0, result.output
    assert f"evidence {absent.id}: its file never arrived" in result.output
    return SimpleNamespace(path=path, case=case, finding=finding, plan=plan, site=site,
                           reviewer=reviewer, linked=linked, listed=listed, absent=absent,
                           elsewhere=elsewhere, fixed=fixed, rect=rect)


def _manifest(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("manifest.json"))


def _contents(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _rewrite(path, change):
    """Rewrite the package with Python's zipfile after ``change`` edits its contents."""
    contents = _contents(path)
    change(contents)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in contents.items():
            zf.writestr(name, data)


def test_the_package_holds_every_original_of_the_case_with_its_records_sha256(app, case_file):
    contents, manifest = _contents(case_file.path), _manifest(case_file.path)
    by_id = {e["id"]: e for e in manifest["evidence"]}
    packaged = [case_file.linked, case_file.listed, case_file.fixed]
    assert set(by_id) == {str(e.id) for e in [*packaged, case_file.absent]}
    for evidence in packaged:
        entry = by_id[str(evidence.id)]
        original = f"originals/{evidence.id}.jpg"
        assert entry["original"] == original and not entry["missing"]
        assert hashlib.sha256(contents[original]).hexdigest() == evidence.sha256
        assert entry["sha256"] == evidence.sha256 == manifest["files"][original]
        assert set(entry["derivatives"]) == {"thumb.jpg", "preview.jpg"}
        assert contents[f"derivatives/{evidence.id}/thumb.jpg"].startswith(b"\xff\xd8")
    assert by_id[str(case_file.absent.id)] | {"original": None, "missing": True} == \
        by_id[str(case_file.absent.id)]
    assert not any(str(case_file.absent.id) in name or str(case_file.elsewhere.id) in name
                   for name in contents)
    assert by_id[str(case_file.fixed.id)]["of"] == "rectification"
    assert by_id[str(case_file.linked.id)]["of"] == by_id[str(case_file.listed.id)]["of"] \
        == "finding"
    assert set(manifest["files"]) == set(contents) - {"manifest.json"}
    assert all(hashlib.sha256(contents[name]).hexdigest() == digest
               for name, digest in manifest["files"].items())


def test_the_manifest_describes_the_case_finding_evidence_and_decisions(app, case_file):
    manifest = _manifest(case_file.path)
    case, site = case_file.case, case_file.site
    assert manifest["case"] == {"id": str(case.id), "status": "notified",
                                "unit": site.unit.name, "leader": "包挂领导",
                                "deadline": case.deadline.isoformat(), "overdue": False}
    finding = manifest["finding"]
    assert (finding["category"], finding["severity"], finding["site"]) == (
        case_file.finding.category.name_zh, "general", site.name)
    assert finding["description"] == f"上班时间离岗 {SCRIPT}"
    linked = next(e for e in manifest["evidence"] if e["id"] == str(case_file.linked.id))
    assert (linked["review_state"], linked["review_note"], linked["reviewed_by"]) == (
        "accepted", "<b>清楚</b>", case_file.reviewer.name)
    assert linked["geofence"] == "inside"
    assert linked["distance_m"] == case_file.linked.distance_m < 50
    assert linked["media"]["device"]["make"] == "HUAWEI"
    assert linked["size"] == case_file.linked.size and linked["flags"] == []


def test_custody_lists_the_case_events_in_chain_order_and_their_links_recompute(
        app, case_file):
    custody = _manifest(case_file.path)["custody"]
    events = custody["events"]
    assert [(e["action"], e["subject_id"]) for e in events] == [
        ("evidence_reviewed", str(case_file.linked.id)), ("case_notified", str(case_file.case.id))]
    assert events[0]["actor"] == case_file.reviewer.name
    for event in events:
        body = {k: event[k] for k in ("id", "at", "actor_id", "action", "subject_type",
                                      "subject_id", "detail")}
        assert link(event["prev_hash"] or "", body) == event["hash"]
    last = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action != "case_packaged")
                             .order_by(AuditEvent.id.desc()).limit(1))
    assert custody["chain_head"] == {"id": last.id, "hash": last.hash}


def test_packaging_is_recorded_in_the_audit_chain_with_the_manifests_sha256(app, case_file):
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "case_packaged"))
    with zipfile.ZipFile(case_file.path) as zf:
        digest = hashlib.sha256(zf.read("manifest.json")).hexdigest()
    assert (event.subject_type, event.subject_id) == ("case", str(case_file.case.id))
    assert event.detail == {"files": len(_manifest(case_file.path)["files"]),
                            "manifest_sha256": digest}


def test_an_untouched_package_verifies(app, runner, case_file):
    result = runner.invoke(args=["verify-package", str(case_file.path)])
    assert result.exit_code == 0, result.output
    files = len(_manifest(case_file.path)["files"])
    assert f"intact: {files} files" in result.output
    assert verify_package(case_file.path) == []


def test_verify_names_each_file_changed_added_or_removed(app, runner, case_file):
    original = f"originals/{case_file.linked.id}.jpg"
    thumb = f"derivatives/{case_file.listed.id}/thumb.jpg"

    def tamper(contents):
        data = bytearray(contents[original])
        data[len(data) // 2] ^= 0x01
        contents[original] = bytes(data)
        contents["originals/extra.jpg"] = b"\xff\xd8\xff planted"
        del contents[thumb]

    _rewrite(case_file.path, tamper)
    result = runner.invoke(args=["verify-package", str(case_file.path)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert sorted(lines) == sorted([f"changed: {original}", "added: originals/extra.jpg",
                                    f"removed: {thumb}"])
    assert "intact" not in result.stdout


def test_a_byte_changed_inside_the_zip_file_itself_is_a_changed_file(app, case_file):
    original = f"originals/{case_file.fixed.id}.jpg"
    with zipfile.ZipFile(case_file.path) as zf:
        info = zf.getinfo(original)
    raw = bytearray(case_file.path.read_bytes())
    # The stored bytes start after the local header: 30 bytes, the name, the extra field.
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[start + 1000] ^= 0xFF
    case_file.path.write_bytes(bytes(raw))
    assert verify_package(case_file.path) == [f"changed: {original}"]


def test_an_edited_index_page_is_a_changed_file(app, case_file):
    def tamper(contents):
        contents["index.html"] = contents["index.html"].replace("采信".encode(), "不采信".encode())

    _rewrite(case_file.path, tamper)
    assert verify_package(case_file.path) == ["changed: index.html"]


@pytest.mark.parametrize("manifest, problem", [
    (None, "removed: manifest.json"),
    (b"{not json", "changed: manifest.json cannot be read"),
    (b'{"files": "everything"}', "changed: manifest.json has no list of files"),
])
def test_a_missing_or_unreadable_manifest_is_a_problem(app, case_file, manifest, problem):
    def tamper(contents):
        if manifest is None:
            del contents["manifest.json"]
        else:
            contents["manifest.json"] = manifest

    _rewrite(case_file.path, tamper)
    problems = verify_package(case_file.path)
    assert len(problems) == 1 and problems[0].startswith(problem)


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 not really a zip", os.urandom(5000)])
def test_a_file_that_is_no_package_gives_a_clear_failure_not_a_traceback(
        app, runner, tmp_path, content):
    path = tmp_path / "garbage.zip"
    path.write_bytes(content)
    result = runner.invoke(args=["verify-package", str(path)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "not a readable zip file" in result.stdout
    assert "Traceback" not in result.output


def test_a_truncated_package_is_a_problem(app, case_file):
    data = case_file.path.read_bytes()
    case_file.path.write_bytes(data[: len(data) // 2])
    assert verify_package(case_file.path)


def test_the_covert_checks_plan_never_appears_in_the_package(app, case_file):
    title = case_file.plan.title.encode()
    contents = _contents(case_file.path)
    assert not [name for name, data in contents.items() if title in data]
    assert str(case_file.plan.id).encode() not in contents["manifest.json"]
    assert "plan" not in _manifest(case_file.path)["finding"]


def test_the_index_page_escapes_what_people_typed(app, case_file):
    page = _contents(case_file.path)["index.html"].decode()
    assert "案件证据包" in page
    assert SCRIPT not in page and "<b>清楚</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;清楚&lt;/b&gt;" in page
    linked = case_file.linked.id
    assert f'<a href="originals/{linked}.jpg"><img\nsrc="derivatives/{linked}/thumb.jpg"' \
        in page


@pytest.mark.parametrize("case_id, message", [
    ("5bb2ba7f-8e4b-4a37-a7bb-60c67d0a008b", "there is no case"),
    ("42; DROP TABLE cases", "is not a case id")])
def test_packaging_an_unknown_or_malformed_case_fails_clearly(app, runner, tmp_path,
                                                             case_id, message):
    out = tmp_path / "p.zip"
    result = runner.invoke(args=["case", "package", case_id, "--out", str(out)])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_packaging_into_a_missing_folder_fails_clearly_and_records_nothing(
        app, runner, make, tmp_path):
    finding = make.finding(make.check(make.user("inspector"), make.site()))
    case = make.case(finding)
    out = tmp_path / "no-such-folder" / "p.zip"
    result = runner.invoke(args=["case", "package", str(case.id), "--out", str(out)])
    assert result.exit_code == 2 and f"cannot write {out}" in result.output
    assert db.session.scalar(sa.select(AuditEvent.id).where(
        AuditEvent.action == "case_packaged")) is None


def test_a_stored_file_that_is_not_the_recorded_one_is_packaged_and_flagged(app, make,
                                                                          tmp_path):
    inspector = make.user("inspector")
    check = make.check(inspector, make.site())
    finding = make.finding(check)
    evidence = _evidence(inspector, _jpeg(6), check, finding_id=finding.id)
    evidence.sha256 = "ab" * 32  # as if the stored file had been replaced since
    db.session.commit()
    packaged = write_package(make.case(finding), tmp_path / "p.zip")
    assert packaged.mismatched == [str(evidence.id)]
    entry = _manifest(tmp_path / "p.zip")["evidence"][0]
    with storage().open(evidence.storage_key) as f:
        stored = hashlib.sha256(f.read()).hexdigest()
    assert (entry["sha256"], entry["stored_sha256"]) == ("ab" * 32, stored)
    assert "stored file differs" in _contents(tmp_path / "p.zip")["index.html"].decode()


def test_a_package_written_to_a_file_object_verifies(app, make, tmp_path):
    inspector = make.user("inspector")
    check = make.check(inspector, make.site())
    finding = make.finding(check)
    _evidence(inspector, _jpeg(5), check, finding_id=finding.id)
    out = tmp_path / "streamed.zip"
    with open(out, "wb") as f:
        packaged = write_package(make.case(finding), f)
    db.session.commit()
    assert packaged.files == 4  # the original, two derived files, index.html
    assert verify_package(out) == []


def test_a_long_video_is_copied_without_holding_it_in_memory(app, make, tmp_path):
    inspector = make.user("inspector")
    check = make.check(inspector, make.site())
    finding = make.finding(check)
    data = b"\x00\x00\x00\x18ftypmp42" + os.urandom(4096) * (48 * 256)  # 48 MiB
    video = Evidence(id=uuid.uuid4(), check_id=check.id, finding_id=finding.id, kind="video",
                     sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                     created_by=inspector.id, state="ready")
    video.storage_key = original_key(video.id)
    storage().save(video.storage_key, io.BytesIO(data))
    db.session.add(video)
    case = make.case(finding)
    del data
    tracemalloc.start()
    try:
        packaged = write_package(case, tmp_path / "video.zip")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert packaged.mismatched == [] and packaged.files == 2
    assert peak < 8 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB for a 48 MiB video"
    assert _manifest(tmp_path / "video.zip")["files"][f"originals/{video.id}.mp4"] \
        == video.sha256

