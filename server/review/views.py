"""The review console: the queue of evidence, one item at a time with its place and time
against the check's, decisions by button or key, and many accepted at once."""


import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from media.mapview import view as map_view
from sync.vocabulary import REVIEW_STATES

from ..access import allow
from ..errors import Problem
from ..extensions import db
from ..labels import review_label
from ..models import Check, Evidence, Finding, Site, Unit, User
from ..roles import REVIEWERS
from ..rules import Refused
from ..visibility import as_uuid, visible_record
from . import services

bp = Blueprint("desk_review", __name__, url_prefix="/review")
PAGE = 60
FILTERS = ("state", "check_id", "site_id", "unit_id", "person_id", "mode", "flag")


def _filter() -> services.QueueFilter:
    """The queue's filters from the query string; a value that is not one is ignored."""
    args = request.args
    state = args.get("state", "pending")
    mode, flag = args.get("mode"), args.get("flag")
    return services.QueueFilter(
        state=state if state in ("all", *REVIEW_STATES) else "pending",
        check_id=as_uuid(args.get("check_id")), site_id=as_uuid(args.get("site_id")),
        unit_id=as_uuid(args.get("unit_id")), person_id=as_uuid(args.get("person_id")),
        mode=mode if mode in ("open", "covert") else None,
        flag=flag if flag in services.FLAGS else None)


def _kept() -> dict:
    """The filters to carry to the next page or item."""
    return {name: request.args[name] for name in FILTERS if request.args.get(name)}


def _choices():
    people = db.session.execute(sa.select(User.id, User.name).where(
        User.role.in_(("inspector", "supervisor"))).order_by(User.name)).all()
    return {"sites": db.session.execute(sa.select(Site.id, Site.name).order_by(Site.code)).all(),
            "units": db.session.execute(sa.select(Unit.id, Unit.name).order_by(Unit.code)).all(),
            "people": people}


@bp.route("")
@allow(REVIEWERS)
def queue():
    wanted = _filter()
    page = max(0, request.args.get("page", 0, type=int))
    query = services.queue_query(current_user, wanted)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(
        query.with_only_columns(Evidence.id).order_by(None).subquery()))
    rows = db.session.execute(query.offset(page * PAGE).limit(PAGE)).all()
    return render_template("review/queue.html", rows=rows, total=total, page=page,
                           pages=(total + PAGE - 1) // PAGE, wanted=wanted, kept=_kept(),
                           flags=services.FLAGS, states=REVIEW_STATES, **_choices())


@bp.route("/accept", methods=["POST"])
@allow(REVIEWERS)
def accept_many():
    ids = [found for found in map(as_uuid, request.form.getlist("ids")) if found]
    if not ids:
        flash(_("Choose the evidence to accept first."), "error")
    else:
        accepted = services.decide_many(current_user, ids[:500])
        db.session.commit()
        flash(_("%(n)s accepted.", n=accepted), "info")
    return redirect(url_for(".queue", **_kept()), 303)


def _item(evidence_id: str) -> Evidence:
    found = visible_record(current_user, Evidence, evidence_id, _("No such evidence."))
    if found.check_id is None:  # a unit's photo of its fix is seen on its case
        raise Problem(404, _("Not found"), _("No such evidence."))
    return found


def _neighbours(evidence: Evidence, wanted) -> tuple:
    """The previous and next evidence of the queue, as filtered."""
    query = services.queue_query(current_user, wanted).with_only_columns(Evidence.id)
    key = (Evidence.created_at, Evidence.id)
    mine = (evidence.created_at, evidence.id)
    after = sa.or_(key[0] > mine[0], sa.and_(key[0] == mine[0], key[1] > mine[1]))
    before = sa.or_(key[0] < mine[0], sa.and_(key[0] == mine[0], key[1] < mine[1]))
    following = db.session.scalar(query.where(after).limit(1))
    previous = db.session.scalar(query.where(before).order_by(None)
                                 .order_by(Evidence.created_at.desc(), Evidence.id.desc())
                                 .limit(1))
    return previous, following


def _place(evidence: Evidence, site: Site):
    point = (evidence.media or {}).get("gps") or evidence.location or {}
    lat, lon = point.get("lat"), point.get("lon")
    accuracy = (evidence.location or {}).get("accuracy_m") or point.get("accuracy_m")
    if site.lat is None or site.lon is None:
        return None, accuracy
    spot = (lat, lon) if isinstance(lat, int | float) and isinstance(lon, int | float) else None
    return map_view(site.lat, site.lon, site.radius_m or 0, spot, accuracy,
                    tile_url=current_app.config.get("MAP_TILE_URL")), accuracy


def _render_item(evidence: Evidence, status: int = 200):
    check = db.session.get(Check, evidence.check_id)
    finding = db.session.get(Finding, evidence.finding_id) if evidence.finding_id else None
    shown, accuracy = _place(evidence, check.site)
    previous, following = _neighbours(evidence, _filter())
    return render_template("review/item.html", evidence=evidence, check=check,
                           finding=finding, map=shown, accuracy=accuracy,
                           author=db.session.get(User, evidence.created_by),
                           reviewer=db.session.get(User, evidence.reviewed_by)
                           if evidence.reviewed_by else None,
                           previous=previous, following=following, kept=_kept(),
                           captured=services.captured_at(evidence)), status


@bp.route("/<evidence_id>")
@allow(REVIEWERS)
def item(evidence_id: str):
    return _render_item(_item(evidence_id))


@bp.route("/<evidence_id>", methods=["POST"])
@allow(REVIEWERS)
def decide(evidence_id: str):
    evidence = _item(evidence_id)
    _previous, following = _neighbours(evidence, _filter())
    try:
        changed = services.decide(current_user, evidence, request.form.get("decision", ""),
                                  request.form.get("note", "")[:services.NOTE_MAX + 1])
    except Refused as refused:
        db.session.rollback()
        flash(refused.detail, "error")
        return _render_item(evidence, refused.status)
    db.session.commit()
    if changed:
        flash(_("Decision saved: %(state)s.", state=review_label(evidence.review_state)),
              "info")
    target = following or evidence.id
    return redirect(url_for(".item", evidence_id=target, **_kept()), 303)
