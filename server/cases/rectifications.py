"""A unit's rectification report written at the desk: a draft it can rewrite and add
photos to, then submitted with the case. Flush, never commit."""

import sqlalchemy as sa
from flask_babel import gettext as _

from sync.desk import NOTE

from ..audit.chain import record
from ..extensions import db
from ..models import Case, Evidence, Rectification, utcnow
from ..rules import Refused
from .states import move

REPORT_MAX = 4 * NOTE
WRITABLE = ("notified", "rectifying", "reopened")  # the unit owes a report


def draft_of(user, case: Case) -> Rectification | None:
    """The user's report on the case not yet submitted."""
    return db.session.scalar(sa.select(Rectification).where(
        Rectification.case_id == case.id, Rectification.created_by == user.id,
        Rectification.submitted_at.is_(None), Rectification.deleted_at.is_(None)))


def write(user, case: Case, report: str) -> Rectification:
    """Keep the unit's draft report (made on first write); the case starts rectifying."""
    if user.role != "unit":
        raise Refused(403, _("Rectifications are reported by the unit."))
    if case.status not in WRITABLE:
        raise Refused(409, _("The report of this case is no longer open to changes."))
    report = report.strip()
    if not report:
        raise Refused(422, _("Write what was put right."))
    if len(report) > REPORT_MAX:
        raise Refused(422, _("A report has at most %(n)s characters.", n=REPORT_MAX))
    move(user, case, "rectifying")
    draft = draft_of(user, case)
    if draft is None:
        draft = Rectification(case_id=case.id, report=report, evidence_ids=[],
                              created_by=user.id)
        db.session.add(draft)
    draft.report = report
    db.session.flush()
    return draft


def photos_of(rectifications) -> dict:
    """rectification id -> its evidence."""
    ids = [r.id for r in rectifications]
    found = {}
    for evidence in db.session.scalars(sa.select(Evidence).where(
            Evidence.rectification_id.in_(ids), Evidence.deleted_at.is_(None))
            .order_by(Evidence.created_at)):
        found.setdefault(evidence.rectification_id, []).append(evidence)
    return found


def submit(user, case: Case) -> Rectification:
    """Submit the draft with the case (rectifying → submitted)."""
    draft = draft_of(user, case)
    if draft is None or not draft.report.strip():
        raise Refused(422, _("Write the rectification report before submitting it."))
    draft.submitted_at = utcnow()
    draft.evidence_ids = [str(e.id) for e in photos_of([draft]).get(draft.id, [])]
    move(user, case, "submitted")
    record("rectification_reported", actor=user, subject=case,
           detail={"rectification_id": str(draft.id), "report": draft.report,
                   "evidence_ids": draft.evidence_ids})
    return draft
