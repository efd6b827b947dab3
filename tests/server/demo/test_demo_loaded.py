"""`python manage.py demo`, loaded once per backend: what a reviewer or a unit contact who
signs in finds (the bureau, its month of checks, evidence in every review state, cases in
every status). These tests only read; the demo takes some seconds to load."""

import hashlib
import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from flask import current_app

from server import create_app
from server.demo import data
from server.evidence.storage import storage
from server.extensions import db
from server.models import (
    Case,
    Category,
    Check,
    Evidence,
    Finding,
    Plan,
    Rectification,
    Site,
    Unit,
    User,
)
from sync.vocabulary import CASE_STATUSES, REVIEW_STATES
from tests.conftest import BACKENDS, IsolatedClient, _config, _empty_tables, login

DESIGN_UNITS = {"局办公室", "机关党委", "建筑业管理科", "城市建设科", "村镇建设科", "房地产管理科",
                "物业管理科", "行政审批科", "计划财务科", "人事科", "建设工程质量安全监督站",
                "路灯管理所"}
YUNLONG = {"lat": (34.20, 34.29), "lon": (117.19, 117.33)}
BEIJING_TIME = timezone(timedelta(hours=8))
PASSWORD = "another-demo-pw"  # not the default: the --password option is honoured
NOTIFIED_OR_LATER = set(CASE_STATUSES) - {"open"}


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(request, databases, tmp_path_factory):
    """The demo loaded by the command into an empty database; the command's output."""
    urls, instance = databases
    app = create_app(_config(urls[request.param], instance) | {
        "MEDIA_ROOT": str(tmp_path_factory.mktemp("media"))})
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["demo", "--password", PASSWORD])
        assert result.exit_code == 0, result.output
        yield result
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def _all(model):
    return db.session.scalars(db.select(model)).all()


def test_demo_has_the_bureaus_units_sites_and_people(loaded):
    units = _all(Unit)
    assert {unit.name for unit in units} == DESIGN_UNITS
    assert all(unit.code and unit.leader_name for unit in units)
    sites = _all(Site)
    assert 25 <= len(sites) <= 35
    for site in sites:
        assert YUNLONG["lat"][0] <= site.lat <= YUNLONG["lat"][1], site.name
        assert YUNLONG["lon"][0] <= site.lon <= YUNLONG["lon"][1], site.name
        assert site.radius_m > 0 and site.address
        assert site.kind != "office" or site.radius_m == 80
    names = " ".join(site.name for site in sites)
    for place in ("纺织东路", "美墅路", "梨园南路", "陈庄危桥", "碧水湾桥", "翟山佳美社区",
                  "恒天花园", "小李庄", "张庄村", "临黄", "史庄", "张小楼", "卧牛村"):
        assert place in names
    users = _all(User)
    assert sum(user.role == "supervisor" for user in users) == 10
    assert {user.unit_id for user in users if user.role == "unit"} == {u.id for u in units}
    assert {"inspector", "reviewer", "compiler", "admin"} <= {user.role for user in users}


def test_demo_prints_every_account_with_the_password(loaded):
    for username, role, name, _unit, _post in data.accounts():
        line = next(line for line in loaded.output.splitlines() if line.startswith(username))
        assert role in line and name in line
    assert "unit-bgs" in loaded.output and "局办公室" in loaded.output
    assert PASSWORD in loaded.output


def test_a_demo_account_signs_in_on_a_phone(loaded):
    current_app.test_client_class = IsolatedClient
    response = login(current_app.test_client(), "jiandu01", password=PASSWORD,
                     device_name="x")
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["user"]["role"] == "supervisor"


def test_covert_plans_go_to_supervisors_only(loaded):
    plans = _all(Plan)
    covert = [plan for plan in plans if plan.mode == "covert"]
    assert covert and {plan.mode for plan in plans} == {"open", "covert"}
    for plan in covert:
        assert plan.assignees and {user.role for user in plan.assignees} == {"supervisor"}
        assert plan.sites


def test_every_covert_plan_comes_from_a_draw_redraw_check_confirms(loaded):
    from server.models import Draw

    drawn = sorted(_all(Draw), key=lambda d: ("-W" not in d.period, d.period))
    covert = [plan for plan in _all(Plan) if plan.mode == "covert"]
    assert covert and all(plan.draw_id for plan in covert)
    # Week by week through the month shown, then next month at once.
    assert sum("-W" in d.period for d in drawn) >= 4 and "-W" not in drawn[-1].period
    for found in drawn:
        plans = [plan for plan in covert if plan.draw_id == found.id]
        assert found.mode == "covert" and len(plans) == len(found.result) >= 4
        assert all({u.role for u in p.assignees} == {"supervisor"} and len(p.assignees) == 2
                   for p in plans)
        assert found.created_at <= min(p.window_start for p in plans)  # drawn beforehand
        assert f"redraw-check {found.id}" in loaded.output
        again = current_app.test_cli_runner().invoke(
            args=["plans", "redraw-check", str(found.id)])
        assert again.exit_code == 0 and "confirmed" in again.output


def test_checks_cover_a_month_within_their_plans(loaded):
    checks = _all(Check)
    assert 40 <= len(checks) <= 60
    starts = sorted(check.started_at for check in checks)
    assert timedelta(days=20) <= starts[-1] - starts[0] <= timedelta(days=31)
    assert starts[-1] <= datetime.now(UTC)
    assert {check.author.role for check in checks} == {"inspector", "supervisor"}
    for check in checks:
        local = check.started_at.astimezone(BEIJING_TIME)
        assert local.weekday() < 5 and 8 <= local.hour < 18
        assert check.started_at < check.ended_at
        assert check.location["lat"] and check.location["lon"]
        if check.plan:
            assert check.plan.window_start <= check.started_at
            assert check.ended_at <= check.plan.window_end
            assert check.site in check.plan.sites and check.author in check.plan.assignees
            assert check.mode == check.plan.mode
    assert sum(check.plan is not None for check in checks) > len(checks) * 0.8


def test_records_are_written_once_complete(loaded):
    # Phones pull each record a single time, at version 1.
    for model in (Check, Finding, Case, Rectification, Evidence):
        assert {record.version for record in _all(model)} == {1}, model


def _metres(location: dict, site: Site) -> float:
    north = (location["lat"] - site.lat) * 111_320
    east = (location["lon"] - site.lon) * 111_320 * math.cos(math.radians(site.lat))
    return math.hypot(north, east)


def test_checks_are_located_at_their_sites_a_few_just_outside(loaded):
    checks = _all(Check)
    ratios = [_metres(check.location, check.site) / check.site.radius_m for check in checks]
    outside = [ratio for ratio in ratios if ratio > 1]
    assert outside and len(outside) <= len(checks) / 5
    assert max(ratios) < 2  # slightly outside, not across town
    assert any("accuracy_m" in check.location for check in checks)


def test_findings_reference_categories_and_the_sites_units(loaded):
    findings = _all(Finding)
    checks = _all(Check)
    assert len(checks) / 5 <= len(findings) <= len(checks) / 2
    categories = {category.id for category in _all(Category)}
    for finding in findings:
        assert finding.category_id in categories
        assert finding.unit_id == finding.check.site.unit_id
        assert finding.description and finding.created_by == finding.check.created_by
    severities = [finding.severity for finding in findings]
    assert severities.count("major") in (1, 2)


def test_published_findings_have_cases_with_deadlines(loaded):
    published = [finding for finding in _all(Finding) if finding.published_at]
    assert 3 <= len(published) <= 8
    cases = {case.finding_id: case for case in _all(Case)}
    notified = {f_id for f_id, case in cases.items() if case.status in NOTIFIED_OR_LATER}
    assert notified == {finding.id for finding in published}
    for finding in published:
        case = cases[finding.id]
        assert finding.state == "confirmed"
        assert case.unit_id == finding.unit_id and case.leader_name == finding.unit.leader_name
        published_day = finding.published_at.astimezone(BEIJING_TIME).date()
        assert case.deadline == published_day + timedelta(
            days=finding.category.default_deadline_days)
        assert case.notified_at == finding.published_at
    for case in cases.values():
        if case.status == "open":  # opened, not yet notified: the unit cannot see it
            assert case.notified_at is None and case.finding.published_at is None
            assert case.finding.state == "confirmed"


def test_cases_are_in_every_status_some_overdue(loaded):
    cases = _all(Case)
    assert {case.status for case in cases} == set(CASE_STATUSES)
    today = datetime.now(BEIJING_TIME).date()
    for case in cases:
        awaiting_unit = case.status in ("notified", "rectifying", "reopened")
        assert case.overdue == (awaiting_unit and case.deadline < today), case.status
        assert (case.closed_at is not None) == (case.status == "closed")
    assert any(case.overdue for case in cases)


def test_reported_rectifications_have_a_report_and_a_photo_of_the_fix(loaded):
    rectifications = {rect.case_id: rect for rect in _all(Rectification)}
    for case in _all(Case):
        rect = rectifications.get(case.id)
        if case.status in ("open", "notified", "rectifying"):
            assert rect is None, case.status
            continue
        assert rect.report and rect.submitted_at, case.status
        contact = db.session.get(User, rect.created_by)
        assert contact.role == "unit" and contact.unit_id == case.unit_id
        [photo] = db.session.scalars(db.select(Evidence).where(
            Evidence.rectification_id == rect.id)).all()
        assert rect.evidence_ids == [str(photo.id)]
        assert photo.kind == "photo" and photo.state == "ready" and photo.check_id is None
        assert photo.created_by == contact.id
        assert photo.review_state == ("pending" if case.status == "submitted" else
                                      "needs_info" if case.status == "reopened" else "accepted")


def test_evidence_waits_in_every_review_state_with_the_reviewers_word(loaded):
    evidence = _all(Evidence)
    assert {e.review_state for e in evidence} == set(REVIEW_STATES)
    reviewer = db.session.scalar(db.select(User).where(User.username == "reviewer"))
    for e in evidence:
        if e.review_state == "pending":
            assert e.reviewed_by is None and e.reviewed_at is None and e.review_note is None
            continue
        assert e.reviewed_by == reviewer.id
        assert e.created_at <= e.reviewed_at <= datetime.now(UTC)
        if e.review_state != "accepted":
            assert len(e.review_note) >= 10, e.review_note  # says what is missing, or why
    # A queue for the reviewer: the newest checks' evidence waits.
    waiting = [e for e in evidence if e.review_state == "pending" and e.check_id]
    assert len(waiting) >= 5
    newest = max(e.check.started_at for e in evidence if e.check_id)
    assert all(newest - e.check.started_at < timedelta(days=15) for e in waiting)


def test_units_see_the_accepted_evidence_of_their_published_findings(loaded):
    evidence = _all(Evidence)
    published = [finding for finding in _all(Finding) if finding.published_at]
    for finding in published:
        own = [e for e in evidence if e.finding_id == finding.id]
        assert own and {e.review_state for e in own} == {"accepted"}
        assert sorted(finding.evidence_ids) == sorted(str(e.id) for e in own)
    for finding in _all(Finding):
        assert set(finding.evidence_ids) <= {str(e.id) for e in evidence}


def test_photos_are_processed_with_time_place_and_phone(loaded):
    photos = [e for e in _all(Evidence) if e.kind == "photo"]
    assert 40 <= len(photos) <= 60
    for photo in photos:
        assert photo.state == "ready", photo.failure
        assert 1600 <= photo.media["width"] <= 2000 and photo.media["format"] == "jpeg"
        assert photo.media["device"]["make"] and photo.media["device"]["model"]
        assert photo.media["captured_at"].endswith("+08:00")
        assert {"thumb.jpg", "preview.jpg"} <= set(photo.derivatives)
        assert photo.filename and photo.captured_at and photo.location
    of_checks = [photo for photo in photos if photo.check_id]
    verdicts = {photo.geofence for photo in of_checks}
    assert verdicts == {"inside", "outside"}
    for photo in of_checks:
        radius = photo.check.site.radius_m
        assert (photo.distance_m > radius) == (photo.geofence == "outside")


def test_originals_are_stored_as_uploaded(loaded):
    store = storage()
    for e in _all(Evidence):
        assert e.storage_key.endswith(f"{e.id}.{e.created_by}")  # the uploader's own key
        content = b"".join(store.stream(e.storage_key))
        assert len(content) == e.size and hashlib.sha256(content).hexdigest() == e.sha256


def test_voice_notes_and_videos_play_with_their_length(loaded):
    evidence = _all(Evidence)
    audio = [e for e in evidence if e.kind == "audio"]
    video = [e for e in evidence if e.kind == "video"]
    assert len(audio) == 4 and len(video) == 3
    for e in audio + video:
        assert e.state == "ready", e.failure
        assert e.media["duration_s"] > 1 and e.media["browser_playable"]
        assert e.finding_id and e.geofence in ("inside", "outside")
    assert all("poster.jpg" in e.derivatives for e in video)
    assert all(1.5 <= e.media["duration_s"] <= 3 for e in video)


def test_running_demo_twice_adds_nothing(loaded):
    runner = current_app.test_cli_runner()
    models = (Unit, Site, User, Plan, Check, Finding, Case, Rectification, Category, Evidence)
    before = {model: len(_all(model)) for model in models}
    again = runner.invoke(args=["demo", "--password", PASSWORD])
    assert again.exit_code == 0, again.output
    assert "已存在" in again.output and "jiandu10" in again.output
    assert PASSWORD in again.output
    other = runner.invoke(args=["demo"])
    assert "与 --password 不符" in other.output and data.PASSWORD not in other.output
    db.session.expire_all()
    assert {model: len(_all(model)) for model in models} == before


def test_the_months_history_is_in_an_intact_audit_chain(loaded):
    from server.audit.chain import verify
    from server.models import AuditEvent

    assert verify(db.session).intact
    for case in _all(Case):
        moves = db.session.scalars(db.select(AuditEvent).where(
            AuditEvent.subject_type == "case", AuditEvent.subject_id == str(case.id),
            AuditEvent.action == "case_moved").order_by(AuditEvent.id)).all()
        reached = moves[-1].detail["to"] if moves else "open"
        assert reached == case.status  # the history ends where the case is
        assert all(a.detail["to"] == b.detail["from"]
                   for a, b in zip(moves, moves[1:], strict=False))
    reviewed = [e for e in _all(AuditEvent) if e.action == "evidence_reviewed"]
    assert {e.detail["decision"] for e in reviewed} == {"accepted", "needs_info", "rejected"}


def test_last_month_has_a_published_bulletin_to_download(loaded):
    from server.bulletins.jobs import fresh
    from server.models import Bulletin

    bulletin = db.session.scalar(db.select(Bulletin))
    now = datetime.now(BEIJING_TIME)
    last = (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    assert (bulletin.month, bulletin.status) == (last, "published")
    assert bulletin.content["figures"]["headline"]["findings"] > 0
    assert fresh(bulletin)  # made in-process by the command
    with storage().open(bulletin.renders["files"]["pdf"]) as pdf:
        assert pdf.read(5) == b"%PDF-"
    assert f"已发布 {last} 月末通报" in loaded.output
