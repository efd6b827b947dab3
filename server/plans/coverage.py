"""What the compiler plans and what was checked: plans week by week, and which units and
sites were checked (and which not) in a month or a quarter, in the bureau's time."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Check, Plan, Site, Unit, plan_sites
from ..visibility import visible
from ..zone import bureau_zone

QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def period_days(period: str) -> tuple[date, date] | None:
    """The first day of a month (``2026-11``) or quarter (``2026-Q4``), and the day after."""
    if m := MONTH.match(period):
        first = date(int(m[1]), int(m[2]), 1)
        months = 1
    elif m := QUARTER.match(period):
        first = date(int(m[1]), 3 * int(m[2]) - 2, 1)
        months = 3
    else:
        return None
    year, month = divmod(first.month - 1 + months, 12)
    return first, date(first.year + year, month + 1, 1)


def _instant(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=bureau_zone())


@dataclass
class SiteRow:
    site: Site
    checks: int
    plans: int


@dataclass
class UnitRow:
    unit: Unit
    sites: list[SiteRow] = field(default_factory=list)

    @property
    def checked(self) -> bool:
        return any(row.checks for row in self.sites)


def coverage(first: date, after: date) -> list[UnitRow]:
    """Every live unit with its sites: checks made and plans (not cancelled) in the
    period. Units not checked come first."""
    start, end = _instant(first), _instant(after)
    checks = dict(db.session.execute(
        sa.select(Check.site_id, sa.func.count()).where(
            Check.started_at >= start, Check.started_at < end, Check.deleted_at.is_(None))
        .group_by(Check.site_id)).all())
    plans = dict(db.session.execute(
        sa.select(plan_sites.c.site_id, sa.func.count()).join(
            Plan, Plan.id == plan_sites.c.plan_id).where(
            Plan.window_start < end, Plan.window_end > start, Plan.deleted_at.is_(None))
        .group_by(plan_sites.c.site_id)).all())
    rows = {u.id: UnitRow(u) for u in db.session.scalars(
        sa.select(Unit).where(Unit.deleted_at.is_(None)).order_by(Unit.code))}
    for site in db.session.scalars(sa.select(Site).where(Site.deleted_at.is_(None))
                                   .order_by(Site.code)):
        if site.unit_id in rows:
            rows[site.unit_id].sites.append(
                SiteRow(site, checks.get(site.id, 0), plans.get(site.id, 0)))
    return sorted(rows.values(), key=lambda row: row.checked)


def weeks(user, first: date, after: date) -> list[tuple[date, list[Plan]]]:
    """The weeks (by their Monday) that meet the period, each with the plans ``user``
    may see whose window meets that week, earliest first."""
    monday = first - timedelta(days=first.weekday())
    plans = db.session.scalars(
        sa.select(Plan).where(visible(user, Plan), Plan.deleted_at.is_(None),
                              Plan.window_start < _instant(after),
                              Plan.window_end > _instant(monday))
        .options(selectinload(Plan.sites), selectinload(Plan.assignees))
        .order_by(Plan.window_start, Plan.title)).all()
    out = []
    while monday < after:
        start, end = _instant(monday), _instant(monday + timedelta(days=7))
        out.append((monday, [p for p in plans if p.window_start < end and p.window_end > start]))
        monday += timedelta(days=7)
    return out
