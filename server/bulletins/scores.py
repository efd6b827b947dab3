"""Unit scores (绩效考评): each unit starts a month at 100 and loses the points of the
deduction table in force that month, per confirmed finding of the month (by category and
severity) and per overdue case among them. The year to date is the mean of the year's
monthly scores; a major problem marks the unit ineligible for the year's awards."""

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from ..audit import chain
from ..errors import Problem
from ..extensions import db
from ..models import DeductionTable, Unit
from .figures import compile_month, previous_month

FULL = 100.0
# In force until the compiler sets a table of their own.
DEFAULT_RULES = {"general": 1, "major": 5, "overdue": 2, "categories": {}}
MAX_POINTS = 100


@dataclass
class UnitScore:
    code: str
    name: str
    general: int = 0
    major: int = 0
    overdue: int = 0
    deducted: float = 0.0
    score: float = FULL
    year_to_date: float = FULL
    rank: int = 0
    ineligible: str | None = None  # why, when a major problem cost the year's awards


def rules_for(month: str) -> dict:
    """The deduction table in force in the month."""
    table = db.session.scalar(sa.select(DeductionTable)
                              .where(DeductionTable.effective_from <= month)
                              .order_by(DeductionTable.effective_from.desc()).limit(1))
    return table.rules if table is not None else DEFAULT_RULES


def points(rules: dict, category: str, severity: str) -> float:
    return rules.get("categories", {}).get(category, {}).get(severity, rules[severity])


def set_rules(month: str, rules: dict, actor) -> DeductionTable:
    """A new table in force from ``month`` on (the one of that month replaced while no
    bulletin of it is published)."""
    errors = []
    for key in ("general", "major", "overdue"):
        if not _valid(rules.get(key)):
            errors.append({"field": key, "message": _("A number of points from 0 to 100.")})
    for code, row in (rules.get("categories") or {}).items():
        for severity, value in row.items():
            if severity not in ("general", "major") or not _valid(value):
                errors.append({"field": f"categories.{code}.{severity}",
                               "message": _("A number of points from 0 to 100.")})
    if errors:
        raise Problem(422, _("The deduction table was not saved"),
                      _("Correct the fields named."), errors=errors)
    table = db.session.scalar(sa.select(DeductionTable)
                              .where(DeductionTable.effective_from == month))
    if table is None:
        table = DeductionTable(effective_from=month, rules={})
        db.session.add(table)
    table.rules = {"general": rules["general"], "major": rules["major"],
                   "overdue": rules["overdue"], "categories": rules.get("categories") or {}}
    table.created_by = getattr(actor, "id", None)
    db.session.flush()
    chain.record("deductions_set", actor=actor, subject_type="deduction_table",
                 subject_id=table.id, detail={"from": month, "rules": table.rules})
    return table


def _valid(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) \
        and 0 <= value <= MAX_POINTS


def _month_scores(month: str, today) -> dict[str, UnitScore]:
    figures = compile_month(month, today)
    rules = rules_for(month)
    units = db.session.scalars(sa.select(Unit).where(Unit.deleted_at.is_(None))
                               .order_by(Unit.code)).all()
    scores = {u.code: UnitScore(code=u.code, name=u.name) for u in units}
    for problem in figures.problems:
        row = scores[problem["unit_code"]]
        setattr(row, problem["severity"], getattr(row, problem["severity"]) + 1)
        row.deducted += points(rules, problem["category_code"], problem["severity"])
        if problem["overdue"]:
            row.overdue += 1
            row.deducted += rules["overdue"]
    for why in figures.ineligible:
        scores[why["unit_code"]].ineligible = why["why"]
    for row in scores.values():
        row.score = max(0.0, FULL - row.deducted)
    return scores


def unit_scores(month: str, today=None) -> list[UnitScore]:
    """Every unit's score in the month and the year to date, ranked by the month (equal
    scores share a rank)."""
    scores = _month_scores(month, today)
    totals = {code: row.score for code, row in scores.items()}
    months, earlier = 1, month
    while not earlier.endswith("-01"):
        earlier = previous_month(earlier)
        months += 1
        for code, row in _month_scores(earlier, today).items():
            totals[code] = totals.get(code, FULL) + row.score
    ranked = sorted(scores.values(), key=lambda r: (-r.score, r.code))
    for row in ranked:
        row.year_to_date = round(totals[row.code] / months, 2)
        row.rank = 1 + sum(other.score > row.score for other in ranked)
    return ranked
