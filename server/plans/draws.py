"""A fair random draw (双随机) made into plans, and checked again from the audit trail.

The inputs (pools, rules and the history the rules need) and a fresh random seed are
written to the audit trail *before* the result, in the same commit: a draw cannot be
repeated until it pleases, and ``manage.py plans redraw-check`` draws again from the
audit entry alone and must get the same result."""

import re
import secrets
import uuid
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from ..audit.chain import record
from ..errors import Problem
from ..extensions import db
from ..models import (
    AuditEvent,
    Check,
    Draw,
    Plan,
    Site,
    Unit,
    User,
    plan_assignees,
    plan_sites,
    utcnow,
)
from ..zone import bureau_zone, week_bounds
from . import services
from .coverage import MONTH, period_days
from .draw import RULES, DrawImpossible, draw

WEEK = re.compile(r"^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$")


def weeks_of(period: str) -> list[date]:
    """The Mondays of a period: a month (``2026-12``, the weeks whose Monday falls in it)
    or an ISO week (``2026-W50``)."""
    if MONTH.match(period):
        first, after = period_days(period)
        monday = first + timedelta(days=-first.weekday() % 7)
        return [monday + timedelta(weeks=n) for n in range(6)
                if monday + timedelta(weeks=n) < after]
    if m := WEEK.match(period):
        try:
            return [date.fromisocalendar(int(m[1]), int(m[2]), 1)]
        except ValueError:
            pass
    raise Problem(422, _("Invalid draw"), _("A period is a month such as 2026-12 or a week "
                                            "such as 2026-W50."))


def _quarter_start(day: date) -> datetime:
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return datetime.combine(first, datetime.min.time(), tzinfo=bureau_zone())


def history(people: list[User], before: date) -> dict:
    """What the rules need to know of earlier draws and checks: the unit each person was
    last drawn for, and the units checked or planned this quarter before ``before``."""
    start = datetime.combine(before, datetime.min.time(), tzinfo=bureau_zone())
    last_unit = {}
    for person in people:
        unit = db.session.scalar(
            sa.select(Site.unit_id).join(plan_sites, plan_sites.c.site_id == Site.id)
            .join(Plan, Plan.id == plan_sites.c.plan_id)
            .join(plan_assignees, plan_assignees.c.plan_id == Plan.id)
            .where(plan_assignees.c.user_id == person.id, Plan.draw_id.is_not(None),
                   Plan.deleted_at.is_(None), Plan.window_start < start)
            .order_by(Plan.window_start.desc()).limit(1))
        if unit is not None:
            last_unit[str(person.id)] = str(unit)
    quarter = _quarter_start(before)
    checked = sa.select(Site.unit_id).join(Check, Check.site_id == Site.id).where(
        Check.started_at >= quarter, Check.started_at < start, Check.deleted_at.is_(None))
    planned = sa.select(Site.unit_id).join(plan_sites, plan_sites.c.site_id == Site.id).join(
        Plan, Plan.id == plan_sites.c.plan_id).where(
        Plan.window_start >= quarter, Plan.window_start < start, Plan.deleted_at.is_(None))
    covered = {str(u) for u in db.session.scalars(sa.union(checked, planned))}
    return {"last_unit": dict(sorted(last_unit.items())), "covered_units": sorted(covered)}


def inputs_for(period: str, sites: list[Site], people: list[User], rules: dict) -> dict:
    weeks = weeks_of(period)
    if not sites:
        raise Problem(422, _("Invalid draw"), _("Choose the sites to draw from."))
    if any(p.role != "supervisor" or not p.active for p in people) or not people:
        raise Problem(422, _("Invalid draw"), _("Choose enabled supervisors to draw from."))
    unknown = set(rules) - set(RULES)
    if unknown or not (1 <= rules.get("per_week", 1) <= 20 and 1 <= rules.get("team", 1) <= 5):
        raise Problem(422, _("Invalid draw"), _("From 1 to 20 checks a week, teams of 1 to 5."))
    return {"period": period, "weeks": [w.isoformat() for w in weeks],
            "sites": sorted(({"id": str(s.id), "unit_id": str(s.unit_id)} for s in sites),
                            key=lambda s: s["id"]),
            "people": sorted(({"id": str(p.id), "unit_id": str(p.unit_id) if p.unit_id else None}
                              for p in people), key=lambda p: p["id"]),
            "rules": {**RULES, **rules}, "history": history(people, weeks[0])}


def _quarter(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3


def left_unchecked(inputs: dict, result: list[dict]) -> list[str]:
    """The units with a site in the pool that would go unchecked this quarter, when the
    draw's last week is its quarter's last (a week belongs to the quarter of its Monday);
    otherwise none, since later draws can still reach them."""
    last = date.fromisoformat(inputs["weeks"][-1])
    if not inputs["rules"]["quarter_cover"] or (
            _quarter(last + timedelta(weeks=1)) == _quarter(last)):
        return []
    drawn = {row["site_id"] for row in result}
    covered = set(inputs["history"]["covered_units"])
    covered |= {s["unit_id"] for s in inputs["sites"] if s["id"] in drawn}
    return sorted({s["unit_id"] for s in inputs["sites"]} - covered)


def make(actor, period: str, mode: str, sites: list[Site], people: list[User],
         rules: dict, *, seed: str | None = None, at: datetime | None = None) -> Draw:
    """Draw, record the inputs and seed, then the result, and make its plans. A draw that
    ends a quarter must reach every unit of its pool not yet checked in it (each unit
    once a quarter). ``seed`` and ``at`` are for the demo's history only: the desk always
    draws a fresh secret seed, now."""
    inputs = inputs_for(period, sites, people, rules)
    seed = seed or secrets.token_hex(16)
    try:
        result = draw(inputs, seed)
    except DrawImpossible as impossible:
        raise Problem(422, _("Draw impossible"), str(impossible)) from None
    if left := left_unchecked(inputs, result):
        units = db.session.scalars(sa.select(Unit.name).where(Unit.id.in_(
            [uuid.UUID(u) for u in left])).order_by(Unit.code)).all()
        raise Problem(422, _("Draw leaves units unchecked"), _(
            "This draw ends the quarter, and these units would not be checked in it: "
            "%(units)s. Draw more checks a week, or plan their checks by hand first.",
            units="、".join(units)))
    found = Draw(period=period, mode=mode, seed=seed, inputs=inputs, result=result,
                 created_by=actor.id, created_at=at or utcnow())
    db.session.add(found)
    db.session.flush()
    record("draw_prepared", actor=actor, subject=found, at=at,
           detail={"period": period, "mode": mode, "seed": seed, "inputs": inputs})
    record("draw_made", actor=actor, subject=found, detail={"result": result}, at=at)
    names = {str(s.id): s.name for s in sites}
    for n, row in enumerate(result):
        start, end = week_bounds(date.fromisoformat(row["week"]))
        title = f"双随机 {period} 第{n + 1}组 {names[row['site_id']]}"[:200]
        services.create(actor, {"title": title, "mode": mode, "window_start": start,
                                "window_end": end, "site_ids": [row["site_id"]],
                                "assignee_ids": row["assignee_ids"]}, draw_id=found.id, at=at)
    return found


def recheck(draw_id) -> tuple[bool, str]:
    """(the same result, what was found): the draw made again from its audit entries."""
    events = {e.action: e for e in db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.subject_type == "draw", AuditEvent.subject_id == str(draw_id),
        AuditEvent.action.in_(["draw_prepared", "draw_made"])))}
    if set(events) != {"draw_prepared", "draw_made"}:
        return False, _("The audit trail has no complete record of this draw.")
    prepared, made = events["draw_prepared"], events["draw_made"]
    if prepared.id > made.id:
        return False, _("The result was recorded before its inputs.")
    again = draw(prepared.detail["inputs"], prepared.detail["seed"])
    if again != made.detail["result"]:
        return False, _("Drawn again from the recorded inputs and seed, the result differs.")
    found = db.session.get(Draw, draw_id)
    if found is not None and found.result != again:
        return False, _("The draw's stored result differs from the audit trail.")
    return True, _("Seed %(seed)s, weeks: %(weeks)s, checks: %(checks)s: the same result "
                   "(audit events %(a)s and %(b)s).", seed=prepared.detail["seed"],
                   weeks=len(prepared.detail["inputs"]["weeks"]), checks=len(again),
                   a=prepared.id, b=made.id)
