"""The audit page: the trail of events, newest first, filtered by subject and person."""

import sqlalchemy as sa
from flask import Blueprint, render_template, request

from ..access import allow
from ..extensions import db
from ..models import AuditEvent, AuditHead, User

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE = 100
SUBJECTS = ("case", "finding", "evidence", "rectification", "user", "bulletin", "plan")


@bp.route("")
@allow("compiler", "admin")
def events():
    args = request.args
    query = (sa.select(AuditEvent, User.name, User.username)
             .outerjoin(User, AuditEvent.actor_id == User.id))
    subject_type = args.get("subject_type") if args.get("subject_type") in SUBJECTS else None
    subject_id = (args.get("subject_id") or "").strip()[:64] or None
    person = (args.get("person") or "").strip()[:64] or None
    if subject_type:
        query = query.where(AuditEvent.subject_type == subject_type)
    if subject_id:
        query = query.where(AuditEvent.subject_id == subject_id)
    if person:
        query = query.where(sa.or_(User.username == person, User.name == person))
    before = args.get("before", type=int)
    if before:
        query = query.where(AuditEvent.id < before)
    rows = db.session.execute(query.order_by(AuditEvent.id.desc()).limit(PAGE)).all()
    head = db.session.get(AuditHead, 1)
    kept = {k: v for k, v in (("subject_type", subject_type), ("subject_id", subject_id),
                               ("person", person)) if v}
    return render_template("audit/events.html", rows=rows, head=head, kept=kept,
                           subjects=SUBJECTS, more=len(rows) == PAGE,
                           last=rows[-1][0].id if rows else None)
