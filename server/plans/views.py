"""The planning desk: plans week by week, made and changed by the compiler and inspectors
(a supervisor reads only the plans given to them); weekly series (周规划); the compiler's
fair random draw (双随机); and coverage of units and sites. Units and reviewers never
reach any of it."""

from datetime import date, datetime, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from sync.vocabulary import MODES

from ..access import allow
from ..errors import Problem
from ..extensions import db
from ..models import Draw, Plan, Site, Unit, User
from ..roles import FIELD_STAFF, PLANNERS
from ..visibility import as_uuid, visible_record
from ..zone import bureau_today, bureau_zone
from . import coverage, draws, services

bp = Blueprint("desk_plans", __name__)
READERS = PLANNERS | {"supervisor"}


def _month() -> str:
    month = request.args.get("month", "")
    return month if coverage.MONTH.match(month) else bureau_today().strftime("%Y-%m")


def _live_sites() -> list[Site]:
    return db.session.scalars(db.select(Site).where(Site.deleted_at.is_(None))
                              .order_by(Site.code)).all()


def _choices():
    sites = _live_sites()
    people = db.session.scalars(db.select(User).where(User.role.in_(FIELD_STAFF),
                                                      User.active.is_(True))
                                .order_by(User.role, User.username)).all()
    return sites, people


def _ids(name: str) -> list:
    ids = [as_uuid(v) for v in request.form.getlist(name)]
    if None in ids:
        raise Problem(422, _("Invalid plan"), _("A choice in the form is not valid."))
    return ids


def _time(name: str, default: datetime | None = None) -> datetime:
    given = request.form.get(name, "")
    if not given and default is not None:
        return default
    try:
        return datetime.fromisoformat(given).replace(tzinfo=bureau_zone())
    except ValueError:
        raise Problem(422, _("Invalid plan"), _("Give the window's start and end as dates "
                                                "and times.")) from None


def _fields(weekly: bool = False) -> dict:
    title = request.form.get("title", "").strip()
    mode = request.form.get("mode")
    if not 1 <= len(title) <= 200 or mode not in MODES:
        raise Problem(422, _("Invalid plan"), _("A plan needs a title of at most 200 "
                                                "characters and a mode."))
    sites = _ids("site_ids")
    if not sites:
        raise Problem(422, _("Invalid plan"), _("Choose at least one site."))
    start = _time("window_start")
    # A weekly series' windows are its weeks: the end given, if any, is not used.
    end = _time("window_end", start + timedelta(days=7) if weekly else None)
    return {"title": title, "mode": mode, "window_start": start, "window_end": end,
            "site_ids": sites, "assignee_ids": _ids("assignee_ids")}


def _plan(plan_id: str) -> Plan:
    return visible_record(current_user, Plan, plan_id, _("No such plan."))


@bp.route("/plans")
@allow(READERS)
def plans():
    month = _month()
    first, after = coverage.period_days(month)
    return render_template("plans/calendar.html", month=month,
                           weeks=coverage.weeks(current_user, first, after),
                           planner=current_user.role in PLANNERS)


@bp.route("/plans/new", methods=["GET", "POST"])
@allow(PLANNERS)
def new():
    if request.method == "POST":
        try:
            weekly = request.form.get("weekly") == "1"
            fields = _fields(weekly)
            if weekly:
                weeks = int(request.form.get("weeks") or 0)
                made = services.weekly(current_user, fields, fields["window_start"].date(),
                                       weeks)
            else:
                made = [services.create(current_user, fields)[0]]
        except (Problem, ValueError) as refused:
            db.session.rollback()
            flash(getattr(refused, "detail", _("The number of weeks is not a number.")),
                  "error")
        else:
            db.session.commit()
            flash(_("%(n)s plan(s) made.", n=len(made)), "info")
            return redirect(url_for("desk_plans.plan", plan_id=made[0].id)), 303
    sites, people = _choices()
    return render_template("plans/form.html", plan=None, sites=sites, people=people,
                           zone=bureau_zone(), form=request.form)


@bp.route("/plans/<plan_id>", methods=["GET", "POST"])
@allow(READERS)
def plan(plan_id: str):
    found = _plan(plan_id)
    if request.method == "POST":
        if current_user.role not in PLANNERS:
            raise Problem(403, _("Forbidden"), _("Your role may not change plans."))
        try:
            services.update(current_user, found, _fields())
        except Problem as refused:
            db.session.rollback()
            flash(refused.detail, "error")
        else:
            db.session.commit()
            flash(_("Plan saved."), "info")
        return redirect(url_for("desk_plans.plan", plan_id=found.id)), 303
    sites, people = _choices()
    return render_template("plans/form.html", plan=found, sites=sites, people=people,
                           zone=bureau_zone(), form={},
                           readonly=current_user.role not in PLANNERS)


@bp.route("/plans/<plan_id>/cancel", methods=["POST"])
@allow(PLANNERS)
def cancel(plan_id: str):
    found = _plan(plan_id)
    if request.form.get("series") == "1":
        n = services.cancel_rest_of_series(current_user, found)
    else:
        services.cancel(current_user, found)
        n = 1
    db.session.commit()
    flash(_("%(n)s plan(s) cancelled.", n=n), "info")
    return redirect(url_for("desk_plans.plans")), 303


@bp.route("/plans/draw", methods=["GET", "POST"])
@allow("compiler")
def draw():
    sites = _live_sites()
    people = db.session.scalars(db.select(User).where(User.role == "supervisor",
                                                      User.active.is_(True))
                                .order_by(User.username)).all()
    if request.method == "POST":
        try:
            chosen_sites = [s for s in sites if s.id in set(_ids("site_ids"))]
            chosen_people = [p for p in people if p.id in set(_ids("people_ids"))]
            rules = {"per_week": int(request.form.get("per_week") or 0),
                     "team": int(request.form.get("team") or 0),
                     "not_home_unit": request.form.get("not_home_unit") == "1",
                     "not_last_unit": request.form.get("not_last_unit") == "1",
                     "quarter_cover": request.form.get("quarter_cover") == "1"}
            mode = request.form.get("mode")
            if mode not in MODES:
                raise Problem(422, _("Invalid draw"), _("Choose open or covert."))
            made = draws.make(current_user, request.form.get("period", "").strip(), mode,
                              chosen_sites, chosen_people, rules)
        except (Problem, ValueError) as refused:
            db.session.rollback()
            flash(getattr(refused, "detail", _("Give whole numbers.")), "error")
        else:
            db.session.commit()
            flash(_("Drawn: %(n)s checks planned.", n=len(made.result)), "info")
            return redirect(url_for("desk_plans.draw_page", draw_id=made.id)), 303
    units = {u.id: u for u in db.session.scalars(db.select(Unit))}
    return render_template("plans/draw.html", sites=sites, people=people, units=units,
                           next_month=_next_month(), form=request.form)


def _next_month() -> str:
    today = bureau_today()
    return date(today.year + today.month // 12, today.month % 12 + 1, 1).strftime("%Y-%m")


@bp.route("/plans/draws/<draw_id>")
@allow(PLANNERS)
def draw_page(draw_id: str):
    ident = as_uuid(draw_id)
    found = db.session.get(Draw, ident) if ident else None
    if found is None:
        raise Problem(404, _("Not found"), _("No such draw."))
    same, said = draws.recheck(found.id)
    plans = db.session.scalars(db.select(Plan).where(Plan.draw_id == found.id)
                               .order_by(Plan.window_start, Plan.title)).all()
    return render_template("plans/draw_page.html", draw=found, plans=plans, same=same,
                           said=said, uncovered=_uncovered_in_quarter(found))


def _uncovered_in_quarter(found: Draw) -> list[Unit]:
    """Units with neither a check nor a plan in the quarter of the draw's first week:
    the draw puts them first, but a draw of fewer checks cannot reach them all."""
    monday = date.fromisoformat(found.inputs["weeks"][0])
    quarter = f"{monday.year}-Q{(monday.month - 1) // 3 + 1}"
    rows = coverage.coverage(*coverage.period_days(quarter))
    return [row.unit for row in rows if row.sites and not row.checked
            and not any(site.plans for site in row.sites)]


@bp.route("/plans/coverage")
@allow(PLANNERS)
def coverage_page():
    period = request.args.get("period", "") or bureau_today().strftime("%Y-%m")
    days = coverage.period_days(period)
    if days is None:
        flash(_("A period is a month such as 2026-11 or a quarter such as 2026-Q4."), "error")
        period = bureau_today().strftime("%Y-%m")
        days = coverage.period_days(period)
    rows = coverage.coverage(*days)
    return render_template("plans/coverage.html", period=period, rows=rows,
                           unchecked=sum(not r.checked for r in rows))
