"""A month's figures for the bulletin, against what the database says: months in the
bureau's time zone, confirmed findings only, no plan and no time of day of any check."""

import json
from datetime import date

from server.bulletins.figures import compile_month, previous_month


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
