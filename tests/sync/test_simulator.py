"""The phone simulator: many phones, a bad network, and nothing lost or doubled."""

from sync import simulator
from sync.backoff import Backoff
from sync.report import Difference, Intended, PhoneRun, compare, format_report
from tests.conftest import PASSWORD


def test_phones_on_a_bad_network_end_with_the_server_holding_exactly_what_they_sent(
        live_server, make):
    sites = [make.site(name=name) for name in ("纺织东路工地", "陈庄危桥", "局办公室")]
    inspector, supervisor = make.user("inspector"), make.user("supervisor")
    make.plan(sites[:2], [supervisor])
    accounts = [(inspector.username, PASSWORD), (supervisor.username, PASSWORD)]
    report = simulator.run(live_server, accounts, phones=3, checks_per_phone=5,
                           drop_requests=0.2, drop_responses=0.2, seed=7,
                           backoff=Backoff(base=0.002, cap=0.02, max_attempts=6))
    text = format_report(report)
    assert report.differences == [], text
    assert sum(p.actions["check create"] for p in report.phones) == 15
    faults = sum((p.faults for p in report.phones), start=__import__("collections").Counter())
    assert faults["dropped_requests"] and faults["dropped_responses"], text
    assert "differences: none" in text and "15 checks" in text


def _phone_with(intended: Intended, version=3) -> PhoneRun:
    phone = PhoneRun("phone1", "inspector1", synced=True)
    phone.intended[intended.type, intended.entity_id] = intended
    phone.local[intended.type, intended.entity_id] = {
        "version": version, "deleted": False, "data": dict(intended.fields)}
    return phone


def test_report_names_missing_mismatched_and_duplicated_records():
    sent = Intended("check", "c1", "phone1", {"site_id": "s1", "notes": "甲\n乙",
                                              "started_at": "2026-11-30T09:00:00+08:00"})
    held_ok = {"version": 3, "deleted": False, "data": {
        "site_id": "s1", "notes": "甲\n乙", "started_at": "2026-11-30T01:00:00+00:00"}}
    phone = _phone_with(sent)
    phone.local["check", "c1"]["data"] = held_ok["data"]
    assert compare([phone], {("check", "c1"): held_ok}, set()) == []
    assert [d.kind for d in compare([phone], {}, set())] == ["missing"]
    doubled = {("check", "c1"): held_ok, ("check", "c2"): held_ok}
    [twin] = compare([phone], doubled, set())
    assert (twin.kind, twin.entity_id, twin.detail) == ("duplicated", "c2", "same as c1")
    assert compare([phone], doubled, {("check", "c2")}) == []  # it was there before
    lost_line = dict(held_ok, data=held_ok["data"] | {"notes": "甲"})
    kinds = {(d.kind, d.field) for d in compare([phone], {("check", "c1"): lost_line}, set())}
    assert ("mismatch", "notes") in kinds and ("stale", "notes") in kinds


def test_format_report_lists_every_difference():
    report = simulator.Report(phones=[_phone_with(Intended("finding", "f1", "phone1"))],
                              held={}, seed=7)
    report.differences = [Difference("missing", "phone1", "finding", "f1",
                                     detail="not on the server")]
    text = format_report(report, verbose=True)
    assert "differences: 1" in text and "missing" in text and "f1" in text
    assert "sent by the phones:  0 checks, 1 findings" in text


def _camera(rng, site, captured_at) -> bytes:
    """A small noisy JPEG: a real photo to the media job, different every time."""
    import io

    from PIL import Image

    size = (rng.randint(160, 320), rng.randint(120, 240))
    out = io.BytesIO()
    Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3)).save(out, "JPEG")
    return out.getvalue()


def test_phones_with_cameras_end_with_every_photo_stored_as_taken_and_ready(
        live_server, make):
    make.site(name="纺织东路工地")
    inspector, supervisor = make.user("inspector"), make.user("supervisor")
    accounts = [(inspector.username, PASSWORD), (supervisor.username, PASSWORD)]
    report = simulator.run(live_server, accounts, phones=2, checks_per_phone=3,
                           drop_requests=0.2, drop_responses=0.2, seed=5, camera=_camera,
                           photos=(1, 3), discard=0.2, cut=0.1, upload_chunk=16 * 1024,
                           backoff=Backoff(base=0.002, cap=0.02, max_attempts=6))
    text = format_report(report)
    assert report.differences == [], text
    taken = sum(p.actions["evidence create"] for p in report.phones)
    assert taken >= 6 and "files: " in text and "uploads: " in text
    kept = [key[1] for p in report.phones for key, i in p.intended.items()
            if key[0] == "evidence" and not i.deleted]
    assert kept and all(report.files[e] for e in kept)
    assert {report.held["evidence", e]["data"]["state"] for e in kept} == {"ready"}


def test_report_names_a_photo_not_ready_and_one_stored_wrong():
    sent = Intended("evidence", "e1", "phone1", {"sha256": "a" * 64, "kind": "photo"})
    phone = _phone_with(sent)
    phone.files["e1"] = {"state": "uploaded", "error": None}
    held = {("evidence", "e1"): {"version": 3, "deleted": False,
                                 "data": dict(sent.fields, state="processing")}}
    phone.local["evidence", "e1"]["data"] = held["evidence", "e1"]["data"]
    kinds = {d.kind for d in compare([phone], held, set(), {"e1": "b" * 64})}
    assert kinds == {"not_ready", "file", "upload"}
    phone.files["e1"]["state"] = "ready"
    ready = {("evidence", "e1"): {"version": 3, "deleted": False,
                                  "data": dict(sent.fields, state="ready")}}
    phone.local["evidence", "e1"]["data"] = ready["evidence", "e1"]["data"]
    assert compare([phone], ready, set(), {"e1": "a" * 64}) == []
