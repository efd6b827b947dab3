"""Unit scores: 100 less the points of the deduction table in force that month, per
confirmed finding and overdue case; the year to date; ranks; award eligibility."""

from datetime import date

import pytest
import sqlalchemy as sa

from server.bulletins.scores import rules_for, set_rules, unit_scores
from server.errors import Problem
from server.extensions import db
from server.models import AuditEvent

TODAY = date(2026, 12, 2)


def _by_name(rows):
    return {row.name: row for row in rows}


def test_the_default_table_scores_the_month(app, november):
    rows = unit_scores("2026-11", TODAY)
    scores = _by_name(rows)
    # 路灯管理所: a major problem (5) whose case is overdue (2); 建筑业管理科: a general one (1).
    assert (scores["路灯管理所"].major, scores["路灯管理所"].overdue) == (1, 1)
    assert scores["路灯管理所"].score == 93.0
    assert scores["建筑业管理科"].score == 99.0
    assert scores["人事科"].score == 100.0
    assert [row.name for row in rows] == ["人事科", "建筑业管理科", "路灯管理所"]
    assert [row.rank for row in rows] == [1, 2, 3]
    assert scores["路灯管理所"].ineligible.startswith("脱岗离岗：")
    assert scores["建筑业管理科"].ineligible is None


def test_a_table_is_in_force_from_its_month_and_earlier_months_keep_theirs(
        app, make, november):
    compiler = make.user("compiler")
    set_rules("2026-11", {"general": 2, "major": 10, "overdue": 3,
                          "categories": {"absent": {"general": 4}}}, compiler)
    db.session.commit()
    assert rules_for("2026-10")["major"] == 5  # October keeps the default
    scores = _by_name(unit_scores("2026-11", TODAY))
    assert scores["建筑业管理科"].score == 96.0  # the category's own 4 points
    assert scores["路灯管理所"].score == 87.0  # 10 + 3
    # Year to date: the mean of January to November; only October and November lost points.
    october = _by_name(unit_scores("2026-10", TODAY))["路灯管理所"].score
    assert october == 99.0
    assert scores["路灯管理所"].year_to_date == round((9 * 100 + october + 87) / 11, 2)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "deductions_set"))
    assert event.detail["from"] == "2026-11" and event.detail["rules"]["major"] == 10


def test_equal_scores_share_a_rank(app, make):
    make.unit(name="甲科"), make.unit(name="乙科")
    assert [row.rank for row in unit_scores("2026-11", TODAY)] == [1, 1]


@pytest.mark.parametrize("rules, field", [
    ({"general": -1, "major": 5, "overdue": 2}, "general"),
    ({"general": 1, "major": "5", "overdue": 2}, "major"),
    ({"general": 1, "major": 5}, "overdue"),
    ({"general": 1, "major": 5, "overdue": True}, "overdue"),
    ({"general": 1, "major": 5, "overdue": 2, "categories": {"absent": {"minor": 1}}},
     "categories.absent.minor"),
    ({"general": 1, "major": 500, "overdue": 2}, "major"),
])
def test_a_bad_table_is_refused_and_nothing_changes(app, make, rules, field):
    with pytest.raises(Problem) as refused:
        set_rules("2026-11", rules, make.user("compiler"))
    assert refused.value.status == 422
    assert [e["field"] for e in refused.value.errors] == [field]
    assert rules_for("2026-11")["major"] == 5
