"""A month's figures for the bulletin, against what the database says: months in the
bureau's time zone, confirmed findings only, no plan and no time of day of any check."""

import json
from datetime import UTC, date, datetime

import pytest

from server.bulletins.figures import compile_month, previous_month
from server.extensions import db


def _at(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def november(make):
    a, b = make.unit(name="建筑业管理科"), make.unit(name="路灯管理所")
    make.unit(name="人事科")  # not checked this month
    site_a = make.site(a, name="纺织东路道路工程")
    site_b = make.site(b, name="恒天花园小巷路灯改造")
    inspector = make.user("inspector")
    plan = make.plan([site_b], [inspector], mode="covert")
    plan.title = "十一月暗访计划（绝密）"

    def check(site, mode, started, plan=None):
        c = make.check(inspector, site, mode=mode, plan=plan)
        c.started_at = _at(started)
        return c

    def finding(c, state="confirmed", severity="general"):
        f = make.finding(c, severity=severity)
        f.state = state
        return f

    open_a = check(site_a, "open", "2026-11-03T01:00:00")
    # 01:30 on 1 November in the bureau (UTC+8): November, although UTC says October.
    covert_b = check(site_b, "covert", "2026-10-31T17:30:00", plan=plan)
    # 00:30 on 1 December in the bureau: not November.
    december = check(site_a, "covert", "2026-11-30T16:30:00")
    october = check(site_b, "open", "2026-10-15T02:00:00")

    fixed = finding(open_a)
    major = finding(covert_b, severity="major")
    finding(open_a, state="pending")
    finding(covert_b, state="dismissed")
    finding(open_a).deleted_at = _at("2026-11-04T00:00:00")  # deleted: no longer a problem
    finding(december, severity="major")
    earlier = finding(october)
    make.case(fixed, status="closed")
    late = make.case(major, status="notified")
    late.deadline = date(2026, 11, 20)
    make.case(earlier, status="rectifying")

    blurred = make.evidence(open_a, fixed)
    blurred.review_state, blurred.state, blurred.captured_at = (
        "needs_info", "ready", _at("2026-11-03T01:05:00"))
    shown = make.evidence(open_a, fixed)
    shown.review_state, shown.state, shown.captured_at = (
        "accepted", "ready", _at("2026-11-03T01:10:00"))
    voice = make.evidence(open_a, fixed, kind="audio")
    voice.review_state, voice.state = "accepted", "ready"
    db.session.commit()
    return {"a": a, "b": b, "fixed": fixed, "major": major, "shown": shown, "plan": plan}


def test_the_months_headline_counts_in_the_bureaus_time(app, november):
    figures = compile_month("2026-11", today=date(2026, 12, 2))
    h = figures.headline
    assert (h.checks_open, h.checks_covert, h.checks) == (1, 1, 2)
    assert (h.sites_covered, h.units_covered) == (2, 2)
    assert (h.findings, h.findings_major) == (2, 1)  # pending and dismissed do not count
    assert (h.cases_rectified, h.cases_open, h.cases_overdue) == (1, 1, 1)
    assert h.rectification_rate == 50.0
    p = figures.previous
    assert (p.checks, p.findings, p.cases_open, p.cases_rectified) == (1, 1, 1, 0)


def test_tallies_by_category_and_unit(app, november):
    figures = compile_month("2026-11", today=date(2026, 12, 2))
    assert figures.by_unit == [
        {"code": november["a"].code, "name": "建筑业管理科", "general": 1, "major": 0},
        {"code": november["b"].code, "name": "路灯管理所", "general": 0, "major": 1},
    ]
    assert [(r["name"], r["general"], r["major"]) for r in figures.by_category] == [
        ("脱岗离岗", 1, 1)]


def test_problems_name_date_and_place_never_the_plan_or_the_hour(app, november):
    figures = compile_month("2026-11", today=date(2026, 12, 2))
    first, second = figures.problems
    assert (first["finding_id"], first["date"], first["site"]) == (
        str(november["major"].id), "2026-11-01", "恒天花园小巷路灯改造")
    assert (first["case_status"], first["deadline"], first["overdue"]) == (
        "notified", "2026-11-20", True)
    assert (second["case_status"], second["overdue"]) == ("closed", False)
    assert second["photo_id"] == str(november["shown"].id)  # the accepted photo
    assert first["photo_id"] is None  # no accepted photo: none shown
    text = json.dumps(figures.as_json(), ensure_ascii=False)
    assert november["plan"].title not in text and "17:30" not in text and "01:30" not in text


def test_a_major_problem_costs_the_unit_the_years_awards(app, november):
    figures = compile_month("2026-11", today=date(2026, 12, 2))
    assert figures.ineligible == [{
        "unit": "路灯管理所", "unit_code": november["b"].code,
        "finding_id": str(november["major"].id), "date": "2026-11-01",
        "why": "脱岗离岗：上班时间离岗，未履行外出报批手续"}]
    # In December the unit with December's major problem joins; November's stays.
    december = compile_month("2026-12", today=date(2026, 12, 2))
    assert [row["unit"] for row in december.ineligible] == ["路灯管理所", "建筑业管理科"]
    # A new year starts clean.
    assert compile_month("2027-01", today=date(2027, 1, 5)).ineligible == []


def test_months_roll_over_the_year():
    assert previous_month("2026-01") == "2025-12"
    assert previous_month("2026-11") == "2026-10"
