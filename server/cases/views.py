"""The desk's pages of findings and cases: confirm or dismiss a finding, the case list,
and a case with its evidence, the unit's reports, its whole history and its moves."""

import os
import tempfile
from datetime import date, timedelta

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    after_this_request,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from sync.vocabulary import CASE_STATUSES, SEVERITIES

from ..access import allow
from ..errors import Problem
from ..evidence import jobs
from ..evidence.uploads import record_upload
from ..extensions import db
from ..models import AuditEvent, Case, Category, Check, Evidence, Finding, Rectification, Unit, User
from ..roles import REVIEWERS, STAFF
from ..rules import Refused
from ..visibility import as_uuid, visible, visible_record
from ..zone import bureau_today
from . import rectifications, services
from .package import write_package
from .states import MOVERS, NEED_NOTE, TRANSITIONS, may_move

bp = Blueprint("desk_cases", __name__)
PAGE = 50
UNIT_ACTIONS = ("case_opened", "case_moved", "case_overdue", "rectification_reported")


def _get(model, ident):
    return visible_record(current_user, model, ident, _("No such record."))


# --- Findings ---------------------------------------------------------------------------

@bp.route("/findings")
@allow(STAFF)
def findings():
    """Findings awaiting confirmation, oldest first."""
    rows = db.session.scalars(sa.select(Finding).where(
        visible(current_user, Finding), Finding.deleted_at.is_(None),
        Finding.state == "pending").order_by(Finding.created_at).limit(200)).all()
    return render_template("cases/findings.html", findings=rows)


def _render_finding(finding: Finding, status: int = 200):
    check = db.session.get(Check, finding.check_id)
    evidence = db.session.scalars(sa.select(Evidence).where(
        Evidence.finding_id == finding.id, Evidence.deleted_at.is_(None))
        .order_by(Evidence.created_at)).all()
    case = db.session.scalar(sa.select(Case).where(Case.finding_id == finding.id))
    unit = db.session.get(Unit, finding.unit_id)
    return render_template(
        "cases/finding.html", finding=finding, check=check, evidence=evidence, case=case,
        categories=db.session.scalars(sa.select(Category).order_by(Category.position)).all(),
        units=db.session.scalars(sa.select(Unit).order_by(Unit.code)).all(), unit=unit,
        severities=SEVERITIES, reviewer=current_user.role in REVIEWERS,
        deadline=bureau_today() + timedelta(days=finding.category.default_deadline_days)), status


@bp.route("/findings/<finding_id>")
@allow(STAFF)
def finding(finding_id: str):
    return _render_finding(_get(Finding, finding_id))


def _refused(refused: Refused, render):
    db.session.rollback()
    flash(refused.detail, "error")
    return render(refused.status)


@bp.route("/findings/<finding_id>/confirm", methods=["POST"])
@allow(REVIEWERS)
def confirm(finding_id: str):
    found = _get(Finding, finding_id)
    form = request.form
    try:
        deadline = _date(form.get("deadline"))
        wanted = services.Confirmation(form.get("severity", ""), as_uuid(form.get("category_id")),
                                       as_uuid(form.get("unit_id")),
                                       form.get("leader_name", "")[:100] or None, deadline)
        if wanted.severity not in SEVERITIES:
            raise Refused(422, _("Choose general or major."))
        case, _made = services.confirm(current_user, found, wanted)
    except Refused as refused:
        return _refused(refused, lambda status: _render_finding(found, status))
    db.session.commit()
    flash(_("Confirmed: the case is open."), "info")
    return redirect(url_for(".case", case_id=case.id), 303)


def _date(text):
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Refused(422, _("Write the deadline as a date (YYYY-MM-DD).")) from None


@bp.route("/findings/<finding_id>/dismiss", methods=["POST"])
@allow(REVIEWERS)
def dismiss(finding_id: str):
    found = _get(Finding, finding_id)
    try:
        services.dismiss(current_user, found, request.form.get("note", "")[:2001])
    except Refused as refused:
        return _refused(refused, lambda status: _render_finding(found, status))
    db.session.commit()
    flash(_("The finding was dismissed."), "info")
    return redirect(url_for(".findings"), 303)


# --- Cases ------------------------------------------------------------------------------

def _case_filter() -> services.CaseFilter:
    args = request.args
    status = args.get("status")
    overdue = {"1": True, "0": False}.get(args.get("overdue", ""))
    month = args.get("month") or None
    if month and not services.is_month(month):
        month = None
    return services.CaseFilter(status if status in CASE_STATUSES else None,
                               as_uuid(args.get("unit_id")), overdue, month)


@bp.route("/cases")
@allow(STAFF | {"unit"})
def cases():
    wanted = _case_filter()
    try:
        rows, cursor, more = services.page_of_cases(current_user, wanted,
                                                    request.args.get("cursor"), PAGE)
    except Refused:
        abort(404)
    kept = {k: v for k, v in request.args.items() if k != "cursor" and v}
    units = [] if current_user.role == "unit" else db.session.scalars(
        sa.select(Unit).order_by(Unit.code)).all()
    return render_template("cases/list.html", cases=rows, cursor=cursor, more=more,
                           wanted=wanted, kept=kept, units=units, statuses=CASE_STATUSES)


def _history(case: Case, rects) -> list:
    subjects = [("case", str(case.id))]
    if current_user.role != "unit":
        subjects += [("finding", str(case.finding_id))]
        subjects += [("rectification", str(r.id)) for r in rects]
    query = (sa.select(AuditEvent, User.name).outerjoin(User, AuditEvent.actor_id == User.id)
             .where(sa.tuple_(AuditEvent.subject_type, AuditEvent.subject_id).in_(subjects))
             .order_by(AuditEvent.id))
    if current_user.role == "unit":
        query = query.where(AuditEvent.action.in_(UNIT_ACTIONS))
    return db.session.execute(query).all()


def _render_case(case: Case, status: int = 200):
    finding = case.finding
    shown = sa.select(Evidence).where(visible(current_user, Evidence),
                                      Evidence.finding_id == finding.id,
                                      Evidence.deleted_at.is_(None))
    rects = db.session.scalars(sa.select(Rectification).where(
        Rectification.case_id == case.id, Rectification.deleted_at.is_(None))
        .order_by(Rectification.created_at)).all()
    # A unit moves its case by writing and submitting its report, not by buttons.
    moves = [] if current_user.role == "unit" else [
        to for to in sorted(TRANSITIONS.get(case.status, ()))
        if may_move(current_user, case.status, to)]
    draft = rectifications.draft_of(current_user, case) if current_user.role == "unit" else None
    site = db.session.get(Check, finding.check_id).site
    return render_template(
        "cases/page.html", case=case, finding=finding, site=site,
        evidence=db.session.scalars(shown.order_by(Evidence.created_at)).all(),
        rects=rects, photos=rectifications.photos_of(rects), history=_history(case, rects),
        moves=moves, need_note={to for to in moves if (case.status, to) in NEED_NOTE},
        draft=draft, writable=case.status in rectifications.WRITABLE,
        rechecks=services.rechecks(case) if "verified" in moves else [],
        staff=current_user.role in STAFF), status


@bp.route("/cases/<case_id>")
@allow(STAFF | {"unit"})
def case(case_id: str):
    return _render_case(_get(Case, case_id))


def _act_on_case(case_id: str, act, said: str | None = None):
    """A form of the case page: ``act(case)``, then back to the case; refused, the page
    again with the reason and the refusal's status."""
    found = _get(Case, case_id)
    try:
        act(found)
    except Refused as refused:
        return _refused(refused, lambda status: _render_case(found, status))
    db.session.commit()
    if said:
        flash(said, "info")
    return redirect(url_for(".case", case_id=found.id), 303)


@bp.route("/cases/<case_id>/move", methods=["POST"])
@allow(MOVERS)
def move(case_id: str):
    form = request.form
    return _act_on_case(case_id, lambda case: services.transition(
        current_user, case, form.get("to", ""), form.get("note", "")[:2001],
        as_uuid(form.get("recheck_id"))))


@bp.route("/cases/<case_id>/report", methods=["POST"])
@allow("unit")
def report(case_id: str):
    text = request.form.get("report", "")[:rectifications.REPORT_MAX + 1]
    return _act_on_case(case_id, lambda case: rectifications.write(current_user, case, text),
                        _("Report saved. Add photos of the fix, then submit it."))


@bp.route("/cases/<case_id>/submit", methods=["POST"])
@allow("unit")
def submit(case_id: str):
    return _act_on_case(case_id, lambda case: rectifications.submit(current_user, case),
                        _("Submitted: the supervision group will verify the fix."))


@bp.route("/cases/<case_id>/photos", methods=["POST"])
@allow("unit")
def record_photo(case_id: str):
    """After the browser's tus upload: the evidence record of the photo, made from the
    upload, on the draft report (JSON ``{"evidence_id"}`` with ``X-CSRFToken``)."""
    found = _get(Case, case_id)
    draft = rectifications.draft_of(current_user, found)
    body = request.get_json(silent=True)
    evidence_id = as_uuid(body.get("evidence_id")) if isinstance(body, dict) else None
    if draft is None or evidence_id is None:
        raise Problem(404, _("Not found"), _("Save the report first, then add photos."))
    evidence = record_upload(current_user, evidence_id)
    if evidence.rectification_id != draft.id:
        raise Problem(404, _("Not found"), _("This upload belongs to another report."))
    db.session.commit()
    jobs.queue_pending()  # its media jobs: in-process, or on the workers' queue
    return {"evidence_id": str(evidence.id), "state": evidence.state}, 201


@bp.route("/cases/<case_id>/package")
@allow(STAFF)
def package(case_id: str):
    """The evidence package as a ZIP, written to a temporary file and streamed."""
    found = _get(Case, case_id)
    handle, path = tempfile.mkstemp(prefix="mingcha-package-", suffix=".zip")

    @after_this_request
    def _remove(response):
        response.call_on_close(lambda: os.path.exists(path) and os.unlink(path))
        return response

    try:
        with os.fdopen(handle, "wb") as out:
            write_package(found, out, actor=current_user)
    except BaseException:
        os.unlink(path)
        raise
    db.session.commit()
    return send_file(path, mimetype="application/zip", as_attachment=True,
                     download_name=f"case-{found.id}.zip")

