"""The bulletin at the desk: the compiler compiles, edits, publishes and renders; every
unit contact, reviewer and inspector reads the published ones (a unit's own problems
marked) and downloads them; scores and the deduction table."""

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from ..access import allow
from ..cases.services import is_month
from ..errors import Problem
from ..evidence.storage import storage
from ..extensions import db
from ..models import Bulletin
from ..visibility import as_uuid
from ..zone import bureau_today
from . import jobs, scores, services
from .figures import previous_month
from .render import file_stem

bp = Blueprint("desk_bulletins", __name__)
READERS = frozenset({"compiler", "reviewer", "inspector", "unit"})


def _bulletin(bulletin_id: str) -> Bulletin:
    """The bulletin if the caller may read it: drafts are the compiler's alone."""
    ident = as_uuid(bulletin_id)
    found = db.session.get(Bulletin, ident) if ident else None
    if found is None or (found.status != "published" and current_user.role != "compiler"):
        raise Problem(404, _("Not found"), _("No such bulletin."))
    return found


def _own_unit():
    return current_user.unit if current_user.role == "unit" else None


@bp.route("/bulletins")
@allow(READERS)
def bulletins():
    query = db.select(Bulletin).order_by(Bulletin.month.desc(), Bulletin.edition.desc())
    if current_user.role != "compiler":
        query = query.where(Bulletin.status == "published")
    last = previous_month(bureau_today().strftime("%Y-%m"))
    return render_template("bulletins/list.html", bulletins=db.session.scalars(query).all(),
                           last_month=last)


@bp.route("/bulletins/compile", methods=["POST"])
@allow("compiler")
def compile_():
    month = request.form.get("month", "")
    if not is_month(month):
        flash(_("Choose a month such as 2026-11."), "error")
        return redirect(url_for("desk_bulletins.bulletins")), 303
    try:
        draft = services.compile_draft(month, current_user,
                                       correction=request.form.get("correction") == "1")
    except Problem as refused:
        flash(refused.detail, "error")
        return redirect(url_for("desk_bulletins.bulletins")), 303
    db.session.commit()
    flash(_("Draft compiled from the database."), "info")
    return redirect(url_for("desk_bulletins.bulletin", bulletin_id=draft.id)), 303


@bp.route("/bulletins/<bulletin_id>")
@allow(READERS)
def bulletin(bulletin_id: str):
    found = _bulletin(bulletin_id)
    unit = _own_unit()
    rows = found.content.get("scores", [])
    if unit is not None:  # a unit sees its own score
        rows = [row for row in rows if row["code"] == unit.code]
    return render_template("bulletins/page.html", bulletin=found, content=found.content,
                           sections=services.SECTIONS, scores=rows, unit=unit,
                           fresh=jobs.fresh(found), kinds=_kinds())


def _kinds() -> tuple[str, ...]:
    """What the caller may download: a unit contact the published PDF only."""
    return ("pdf",) if current_user.role == "unit" else tuple(jobs.KINDS)


def _act(bulletin_id: str, act, done: str):
    found = _bulletin(bulletin_id)
    try:
        act(found)
    except Problem as refused:
        db.session.rollback()
        flash(refused.detail if not refused.errors else
              "；".join(f"{e['field']}：{e['message']}" for e in refused.errors), "error")
        return redirect(url_for("desk_bulletins.bulletin", bulletin_id=found.id)), 303
    db.session.commit()
    flash(done, "info")
    return redirect(url_for("desk_bulletins.bulletin", bulletin_id=found.id)), 303


@bp.route("/bulletins/<bulletin_id>/edit", methods=["POST"])
@allow("compiler")
def edit(bulletin_id: str):
    form = request.form
    sections = {name: form.get(name, "")[:services.SECTION_CHARS + 1]
                for name in services.SECTIONS if name in form}
    return _act(bulletin_id, lambda b: services.edit(
        b, sections, form.get("number", "")[:services.NUMBER_CHARS + 1], current_user),
        _("Saved."))


@bp.route("/bulletins/<bulletin_id>/publish", methods=["POST"])
@allow("compiler")
def publish(bulletin_id: str):
    def publish_and_render(found):
        services.publish(found, current_user)
        jobs.queue_render(found)
    return _act(bulletin_id, publish_and_render,
                _("Published: frozen from now on; its files are being made."))


@bp.route("/bulletins/<bulletin_id>/render", methods=["POST"])
@allow("compiler")
def render(bulletin_id: str):
    return _act(bulletin_id, jobs.queue_render, _("The files are being made."))


@bp.route("/bulletins/<bulletin_id>/progress")
@allow(READERS)
def progress(bulletin_id: str):
    found = _bulletin(bulletin_id)
    renders = found.renders or {}
    return jsonify(state=renders.get("state"), progress=renders.get("progress", 0),
                   fresh=jobs.fresh(found))


@bp.route("/bulletins/<bulletin_id>/files/<kind>")
@allow(READERS)
def download(bulletin_id: str, kind: str):
    found = _bulletin(bulletin_id)
    if kind not in _kinds() or not jobs.fresh(found):
        abort(404)
    stream = storage().open(found.renders["files"][kind])

    def chunks():
        with stream:
            while block := stream.read(256 * 1024):
                yield block
    return Response(chunks(), mimetype=jobs.KINDS[kind], headers={
        "Cache-Control": "private",
        "Content-Disposition": f'attachment; filename="{file_stem(found)}.{kind}"'})


def _month_asked() -> str:
    month = request.values.get("month", "")
    return month if is_month(month) else previous_month(bureau_today().strftime("%Y-%m"))


@bp.get("/scores")
@allow(READERS)
def unit_scores():
    """Every unit's score of a month (a unit contact: its own)."""
    month = _month_asked()
    rows = scores.unit_scores(month)
    unit = _own_unit()
    if unit is not None:
        rows = [row for row in rows if row.code == unit.code]
    return render_template("bulletins/scores.html", month=month, rows=rows,
                           rules=scores.rules_for(month), unit=unit)


@bp.post("/scores")
@allow("compiler")
def set_deductions():
    """A deduction table in force from the month on (its category rules kept)."""
    month = _month_asked()
    rules = {key: _number(request.form.get(key)) for key in ("general", "major", "overdue")}
    rules["categories"] = scores.rules_for(month).get("categories", {})
    try:
        scores.set_rules(month, rules, current_user)
    except Problem as refused:
        db.session.rollback()
        flash("；".join(e["field"] for e in refused.errors) + "：" + refused.detail, "error")
    else:
        db.session.commit()
        flash(_("The deduction table is in force from %(month)s.", month=month), "info")
    return redirect(url_for("desk_bulletins.unit_scores", month=month)), 303


def _number(text):
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None
