"""Plans made, changed and cancelled by the compiler and inspectors, one at a time or as
a weekly series (周规划). Every change is an audit event and reaches the assignees'
phones through pull; a plan taken from someone reaches them as a delete. Flush, never
commit: the caller commits once."""

import uuid
from datetime import UTC, date, timedelta

from flask_babel import gettext as _

from ..audit.chain import record
from ..errors import Problem
from ..extensions import db
from ..models import Plan, Site, User, utcnow
from ..roles import FIELD_STAFF
from ..zone import week_bounds

FIELDS = ("title", "mode", "window_start", "window_end", "site_ids", "assignee_ids")
MAX_WEEKS = 26  # a weekly series covers at most half a year


def _refuse(field: str, message: str):
    raise Problem(422, _("Invalid plan"), message, errors=[{"field": field, "message": message}])


def _uuids(ids) -> list[uuid.UUID]:
    return list(dict.fromkeys(i if isinstance(i, uuid.UUID) else uuid.UUID(i) for i in ids))


def _sites(ids) -> list[Site]:
    wanted = _uuids(ids)
    found = db.session.scalars(db.select(Site).where(Site.id.in_(wanted),
                                                     Site.deleted_at.is_(None))).all()
    if len(found) != len(wanted):
        _refuse("site_ids", _("A site named is unknown or removed."))
    return found


def _assignees(ids) -> list[User]:
    wanted = _uuids(ids)
    found = db.session.scalars(db.select(User).where(User.id.in_(wanted))).all() if wanted else []
    if len(found) != len(wanted) or any(u.role not in FIELD_STAFF or not u.active
                                        for u in found):
        _refuse("assignee_ids", _("Assignees are inspectors or supervisors whose accounts "
                                  "are enabled."))
    return found


def snapshot(plan: Plan) -> dict:
    """The plan as the audit trail records it."""
    return {"title": plan.title, "mode": plan.mode,
            "window_start": plan.window_start.astimezone(UTC).isoformat(),
            "window_end": plan.window_end.astimezone(UTC).isoformat(),
            "site_ids": sorted(str(s.id) for s in plan.sites),
            "assignee_ids": sorted(str(u.id) for u in plan.assignees)}


def _apply(plan: Plan, fields: dict):
    for name in ("title", "mode", "window_start", "window_end"):
        if fields.get(name) is not None:
            setattr(plan, name, fields[name])
    if fields.get("site_ids") is not None:
        plan.sites = _sites(fields["site_ids"])
    if fields.get("assignee_ids") is not None:
        plan.assignees = _assignees(fields["assignee_ids"])
    if plan.window_end <= plan.window_start:
        _refuse("window_end", _("The window must end after it starts."))


def create(actor, fields: dict, plan_id: uuid.UUID | None = None, *,
           series_id=None, draw_id=None, at=None) -> tuple[Plan, bool]:
    """(the plan, whether it is new). The same plan sent again under its id is the same
    plan; a different one under a taken id is `409`. ``at``: when it was made, if not now
    (the demo's history)."""
    plan = Plan(id=plan_id or uuid.uuid4(), created_by=getattr(actor, "id", None),
                series_id=series_id, draw_id=draw_id)
    if at is not None:
        plan.created_at = plan.updated_at = at
    _apply(plan, fields)
    existing = db.session.get(Plan, plan.id) if plan_id else None
    if existing is not None:
        if existing.deleted_at is None and snapshot(existing) == snapshot(plan):
            return existing, False
        raise Problem(409, _("Plan exists"), _("Another plan already has this id."))
    db.session.add(plan)
    db.session.flush()
    record("plan_created", actor=actor, subject=plan, detail=snapshot(plan), at=at)
    return plan, True


def update(actor, plan: Plan, fields: dict) -> Plan:
    """Change what ``fields`` names. A cancelled plan stays cancelled (`409`)."""
    if plan.deleted_at is not None:
        raise Problem(409, _("Plan cancelled"), _("A cancelled plan cannot be changed."))
    before = snapshot(plan)
    _apply(plan, fields)
    after = snapshot(plan)
    if after == before:
        return plan
    # An UPDATE of the row itself, so that the version grows when only the plan's sites
    # or people changed (they live in other tables) and phones take the change.
    plan.updated_at = utcnow()
    db.session.flush()
    changed = [name for name in FIELDS if before[name] != after[name]]
    record("plan_changed", actor=actor, subject=plan,
           detail={"before": {n: before[n] for n in changed},
                   "after": {n: after[n] for n in changed}})
    return plan


def cancel(actor, plan: Plan) -> Plan:
    """Cancel the plan: it leaves every phone; checks started under it keep it."""
    if plan.deleted_at is None:
        plan.deleted_at = utcnow()
        db.session.flush()
        record("plan_cancelled", actor=actor, subject=plan, detail={"title": plan.title})
    return plan


def weekly(actor, fields: dict, first_monday: date, weeks: int) -> list[Plan]:
    """A recurring plan (周规划): one plan a week from ``first_monday``, each from Monday
    00:00 to the next Monday in the bureau's time, with the same sites and people."""
    if first_monday.weekday() != 0:
        _refuse("first_week", _("A weekly plan starts on a Monday."))
    if not 1 <= weeks <= MAX_WEEKS:
        _refuse("weeks", _("A weekly plan runs from 1 to %(n)s weeks.", n=MAX_WEEKS))
    series = uuid.uuid4()
    plans = []
    for n in range(weeks):
        monday = first_monday + timedelta(weeks=n)
        start, end = week_bounds(monday)
        title = f"{fields['title']}（{monday:%m-%d}–{monday + timedelta(days=6):%m-%d}）"
        week = {**fields, "title": title[:200], "window_start": start, "window_end": end}
        plans.append(create(actor, week, series_id=series)[0])
    return plans


def cancel_rest_of_series(actor, plan: Plan) -> int:
    """Cancel the plan's series from this week on; weeks already begun are kept."""
    rest = db.session.scalars(db.select(Plan).where(
        Plan.series_id == plan.series_id, Plan.deleted_at.is_(None),
        Plan.window_start >= plan.window_start)).all() if plan.series_id else [plan]
    for each in rest:
        cancel(actor, each)
    return len(rest)
