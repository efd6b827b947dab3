"""The desk's pages: the review queue and item, findings, cases, the unit's side and the
audit page, as each person uses them, and as an attacker would try them."""

import io
import uuid
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import AuditEvent, Case, Evidence, Finding, Rectification
from server.zone import bureau_today


def _ready(evidence, **fields):
    evidence.state = "ready"
    for name, value in fields.items():
        setattr(evidence, name, value)
    db.session.commit()
    return evidence


def test_the_queue_lists_what_waits_and_filters_by_flag_and_mode(bureau, browser, make):
    far = _ready(make.evidence(bureau.check), geofence="outside", distance_m=812.0)
    open_check = make.check(bureau.inspector, bureau.site, mode="open")
    plain = _ready(make.evidence(open_check))
    reviewer = browser(bureau.reviewer)
    page = reviewer.page("/review")
    for item in (bureau.photo, far, plain):
        assert f"/review/{item.id}" in page
    assert f"/review/{bureau.pending.id}" not in page  # its file is still on its way
    assert f"/review/{bureau.pending.id}" in reviewer.page("/review?state=all")
    flagged = reviewer.page("/review?flag=outside_geofence")
    assert f"/review/{far.id}" in flagged and f"/review/{plain.id}" not in flagged
    covert = reviewer.page("/review?mode=open")
    assert f"/review/{plain.id}" in covert and f"/review/{far.id}" not in covert
    assert reviewer.page("/review?flag=<script>&mode=x&site_id=1")  # ignored, not a 500


def test_an_item_shows_place_and_time_and_a_decision_moves_to_the_next(bureau, browser, make):
    bureau.site.lat, bureau.site.lon, bureau.site.radius_m = 34.26, 117.19, 300
    _ready(bureau.photo, location={"lat": 34.2665, "lon": 117.19, "accuracy_m": 20},
           geofence="outside", distance_m=611.0)
    following = _ready(make.evidence(bureau.check))
    reviewer = browser(bureau.reviewer)
    page = reviewer.page(f"/review/{bureau.photo.id}")
    assert "<svg" in page and "611" in page and "±20" in page
    assert f"/review/{following.id}" in page  # the next one, key j
    answer = reviewer.post(f"/review/{bureau.photo.id}", {"decision": "accepted"})
    assert answer.headers["Location"].endswith(f"/review/{following.id}")
    assert db.session.get(Evidence, bureau.photo.id).review_state == "accepted"


def test_a_tile_server_draws_the_map_and_is_allowed_by_the_policy(bureau, browser, app):
    app.config["MAP_TILE_URL"] = "https://tiles.example.gov.cn/{z}/{x}/{y}.png"
    _ready(bureau.photo, location={"lat": 34.2605, "lon": 117.19})
    response = browser(bureau.reviewer).get(f"/review/{bureau.photo.id}")
    assert "https://tiles.example.gov.cn/" in response.get_data(as_text=True)
    assert "img-src 'self' https://tiles.example.gov.cn" in \
        response.headers["Content-Security-Policy"]


def test_sending_back_without_a_note_changes_nothing(bureau, browser):
    page = browser(bureau.reviewer).post(f"/review/{bureau.photo.id}",
                                         {"decision": "needs_info", "note": " "}, status=422)
    assert "请在说明中写明" in page.get_data(as_text=True)
    assert db.session.get(Evidence, bureau.photo.id).review_state == "pending"


def test_many_are_accepted_at_once_and_only_ready_ones(bureau, browser, make):
    other = _ready(make.evidence(bureau.check))
    browser(bureau.compiler).post("/review/accept", {"ids": [str(bureau.photo.id),
                                                             str(other.id),
                                                             str(bureau.pending.id), "x"]})
    states = {e.id: e.review_state for e in db.session.scalars(sa.select(Evidence))}
    assert states[bureau.photo.id] == states[other.id] == "accepted"
    assert states[bureau.pending.id] == "pending"


def test_markup_in_notes_and_descriptions_shows_as_text(bureau, browser):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    bureau.finding.description = evil
    bureau.check.notes = evil
    db.session.commit()
    reviewer = browser(bureau.reviewer)
    reviewer.post(f"/review/{bureau.photo.id}", {"decision": "needs_info", "note": evil})
    for path in (f"/review/{bureau.photo.id}", f"/findings/{bureau.finding.id}", "/findings"):
        page = reviewer.page(path)
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;" in page


def test_a_finding_is_confirmed_from_its_page_with_the_defaults(bureau, browser):
    reviewer = browser(bureau.reviewer)
    page = reviewer.page(f"/findings/{bureau.finding.id}")
    days = bureau.finding.category.default_deadline_days
    default_deadline = (bureau_today() + timedelta(days=days)).isoformat()
    assert default_deadline in page and bureau.unit.leader_name in page
    answer = reviewer.post(f"/findings/{bureau.finding.id}/confirm",
                           {"severity": "major", "category_id": str(bureau.finding.category_id),
                            "unit_id": str(bureau.unit.id), "leader_name": "",
                            "deadline": default_deadline})
    case = db.session.scalar(sa.select(Case))
    assert answer.headers["Location"].endswith(f"/cases/{case.id}")
    assert (case.leader_name, case.deadline.isoformat()) == (bureau.unit.leader_name,
                                                             default_deadline)
    reviewer.post(f"/findings/{bureau.finding.id}/dismiss", {"note": "x"}, status=409)


@pytest.mark.parametrize("deadline", ["tomorrow", "2026-02-30", "9" * 40])
def test_a_broken_deadline_is_refused_in_words(bureau, browser, deadline):
    answer = browser(bureau.reviewer).post(f"/findings/{bureau.finding.id}/confirm",
                                           {"severity": "general", "deadline": deadline},
                                           status=422)
    assert "YYYY-MM-DD" in answer.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 0


def _notified_case(bureau, make):
    _ready(bureau.photo, review_state="accepted")
    bureau.finding.state = "confirmed"
    case = make.case(bureau.finding, status="open")
    db.session.commit()
    return case


def test_the_whole_loop_at_the_desk(bureau, browser, make):
    case = _notified_case(bureau, make)
    reviewer, unit = browser(bureau.reviewer), browser(bureau.contact)
    unit.get(f"/cases/{case.id}", status=404)  # not told yet
    reviewer.post(f"/cases/{case.id}/move", {"to": "notified"})
    page = unit.page("/cases")
    assert f"/cases/{case.id}" in page
    page = unit.page(f"/cases/{case.id}")
    assert bureau.finding.description in page
    unit.post(f"/cases/{case.id}/submit", status=422)  # no report yet
    unit.post(f"/cases/{case.id}/report", {"report": "已补办外出报批手续，加强考勤管理"})
    page = unit.page(f"/cases/{case.id}")
    assert "data-rectification-upload" in page and "已补办外出报批手续" in page
    unit.post(f"/cases/{case.id}/submit")
    browser(bureau.inspector).post(f"/cases/{case.id}/move", {"to": "verified",
                                                               "note": "复查已整改"})
    browser(bureau.compiler).post(f"/cases/{case.id}/move", {"to": "closed"})
    assert db.session.get(Case, case.id).status == "closed"
    history = browser(bureau.compiler).page(f"/cases/{case.id}")
    for words in ("已补办外出报批手续", "复查已整改", "已销号"):
        assert words in history
    assert db.session.get(Case, case.id).closed_at is not None


def test_a_unit_sees_nothing_of_the_plan_the_check_or_another_unit(bureau, browser, make):
    case = _notified_case(bureau, make)
    browser(bureau.reviewer).post(f"/cases/{case.id}/move", {"to": "notified"})
    unit, other = browser(bureau.contact), browser(bureau.other_contact)
    secrets = (bureau.plan.title, str(bureau.plan.id), bureau.check.notes)
    for path in ("/", "/cases", f"/cases/{case.id}", "/cases?status=notified"):
        page = unit.page(path)
        for secret in secrets:
            assert secret not in page, (path, secret)
    other.get(f"/cases/{case.id}", status=404)
    assert f"/cases/{case.id}" not in other.page("/cases")
    for path in (f"/findings/{bureau.finding.id}", "/findings", "/review",
                 f"/review/{bureau.photo.id}", "/audit", f"/cases/{case.id}/package"):
        unit.get(path, status=403)
    for path in (f"/cases/{uuid.uuid4()}", "/cases/1", "/cases/..%2f..%2fetc"):
        unit.get(path, status=404)


def test_every_form_needs_its_csrf_token(bureau, browser, make):
    case = _notified_case(bureau, make)
    reviewer = browser(bureau.reviewer)
    for path, data in ((f"/review/{bureau.photo.id}", {"decision": "accepted"}),
                       ("/review/accept", {"ids": str(bureau.photo.id)}),
                       (f"/findings/{bureau.finding.id}/dismiss", {"note": "x"}),
                       (f"/cases/{case.id}/move", {"to": "notified"})):
        reviewer.post(path, data, status=400, csrf=False)
    assert db.session.get(Case, case.id).status == "open"
    assert db.session.get(Evidence, bureau.photo.id).reviewed_by is None
    assert db.session.get(Finding, bureau.finding.id).state == "confirmed"


def test_the_package_downloads_for_staff(bureau, browser, make):
    case = _notified_case(bureau, make)
    response = browser(bureau.compiler).get(f"/cases/{case.id}/package")
    assert response.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert "manifest.json" in names and "index.html" in names
    assert db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "case_packaged")).actor_id == bureau.compiler.id


def test_the_audit_page_filters_by_person_and_subject(bureau, browser, make):
    case = _notified_case(bureau, make)
    browser(bureau.reviewer).post(f"/cases/{case.id}/move", {"to": "notified"})
    compiler = browser(bureau.compiler)
    page = compiler.page(f"/audit?person={bureau.reviewer.username}")
    assert "整改事项状态变更" in page
    assert bureau.reviewer.name in page
    only = compiler.page(f"/audit?subject_type=case&subject_id={case.id}")
    assert str(case.id)[:8] in only and "登录" not in only
    browser(bureau.reviewer).get("/audit", status=403)
    assert compiler.page("/audit?subject_type=<x>&before=abc&person=" + "x" * 500)


def test_start_pages_say_what_waits(bureau, browser, make):
    case = _notified_case(bureau, make)
    browser(bureau.reviewer).post(f"/cases/{case.id}/move", {"to": "notified"})
    _ready(bureau.photo)
    assert "待审核证据 1 项" in browser(bureau.reviewer).page("/")
    unit_page = browser(bureau.contact).page("/")
    assert f"/cases/{case.id}" in unit_page  # the notice of a new case


def test_huge_text_is_refused_in_words_and_changes_nothing(bureau, browser, desk, make):
    case = _notified_case(bureau, make)
    browser(bureau.reviewer).post(f"/cases/{case.id}/move", {"to": "notified"})
    reviewer = browser(bureau.reviewer)
    answer = reviewer.post(f"/review/{bureau.photo.id}",
                           {"decision": "rejected", "note": "拒" * 100_000}, status=422)
    assert "2000" in answer.get_data(as_text=True)
    unit = browser(bureau.contact)
    unit.post(f"/cases/{case.id}/report", {"report": "改" * 100_000}, status=422)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Rectification)) == 0
    api = desk(bureau.reviewer)
    api.call("POST", f"/api/v1/evidence/{bureau.photo.id}/review",
             {"decision": "rejected", "note": "x" * 3000}, 422)
    too_big = api.client.post(f"/api/v1/evidence/{bureau.photo.id}/review",
                              headers=api.headers, data="x" * (6 * 1024 * 1024),
                              content_type="application/json")
    assert too_big.status_code == 413 and too_big.mimetype == "application/problem+json"
    assert db.session.get(Evidence, bureau.photo.id).review_state == "accepted"


def test_photos_are_recorded_only_from_the_units_own_uploads(bureau, browser, make):
    case = _notified_case(bureau, make)
    browser(bureau.reviewer).post(f"/cases/{case.id}/move", {"to": "notified"})
    unit = browser(bureau.contact)
    unit.post(f"/cases/{case.id}/report", {"report": "已整改"})
    token = unit.token()
    for body in ({"evidence_id": str(uuid.uuid4())}, {"evidence_id": "../../etc"}, {}, [],
                 [1], "x", {"evidence_id": ["a"]}):
        answer = unit.client.post(f"/cases/{case.id}/photos", json=body,
                                  headers={"X-CSRFToken": token})
        assert answer.status_code == 404 and answer.mimetype == "application/problem+json"
    assert unit.client.post(f"/cases/{case.id}/photos", json={"evidence_id": str(
        uuid.uuid4())}).status_code == 400  # no CSRF token
    other = browser(bureau.other_contact)
    assert other.client.post(f"/cases/{case.id}/photos", json={"evidence_id": str(
        uuid.uuid4())}, headers={"X-CSRFToken": other.token()}).status_code == 404


def test_a_units_json_answers_hold_nothing_of_the_plan_or_the_check(bureau, browser, desk,
                                                                     make):
    from datetime import UTC, datetime

    bureau.check.started_at = datetime(2026, 11, 3, 2, 17, 41, tzinfo=UTC)
    db.session.commit()
    case = _notified_case(bureau, make)
    browser(bureau.reviewer).post(f"/cases/{case.id}/move", {"to": "notified"})
    unit = desk(bureau.contact)
    answers = [unit.call("GET", "/api/v1/cases", status=200).get_data(as_text=True),
               unit.call("GET", f"/api/v1/evidence/{bureau.photo.id}", status=200)
               .get_data(as_text=True),
               str(unit.pull())]
    for text in answers:
        for secret in (bureau.plan.title, str(bureau.plan.id), bureau.check.notes,
                       "2026-11-03T02:17", "2026-11-03T10:17", bureau.inspector.name):
            assert secret not in text
    unit.call("GET", f"/api/v1/evidence/{bureau.photo.id}/original", status=404)
    unit.call("GET", f"/api/v1/evidence/{bureau.pending.id}", status=404)


def test_reading_an_original_is_in_the_audit_trail_and_a_range_later_is_not(bureau, desk,
                                                                            make):
    import io as _io

    from media.storage import original_key
    from server.evidence.storage import storage

    bureau.photo.storage_key = original_key(bureau.photo.id, bureau.inspector.id)
    storage().save(bureau.photo.storage_key, _io.BytesIO(b"x" * 4096))
    db.session.commit()
    reviewer = desk(bureau.reviewer)
    path = f"/api/v1/evidence/{bureau.photo.id}/original"
    assert reviewer.call("GET", path, status=200).data == b"x" * 4096
    reviewer.client.get(path, headers=reviewer.headers | {"Range": "bytes=2048-"})
    viewed = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "original_viewed")).all()
    assert [(e.actor_id, e.subject_id) for e in viewed] == [(bureau.reviewer.id,
                                                            str(bureau.photo.id))]


def test_a_cameras_time_without_offset_is_the_bureaus_wall_clock(bureau, browser):
    _ready(bureau.photo, media={"captured_at": "2026-11-03T10:12:30"})
    page = browser(bureau.reviewer).page(f"/review/{bureau.photo.id}")
    assert "2026-11-03 10:12:30" in page
