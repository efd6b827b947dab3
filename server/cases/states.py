"""The case state machine: where each status may go, and who may make each move.

It serves the sync push and the desk alike; what a move also changes (the finding is
published, the case closed, its overdue flag) happens here, so both paths agree.
"""

from datetime import date

from flask_babel import gettext as _

from ..audit.chain import record
from ..extensions import db
from ..models import Notice, utcnow
from ..roles import REVIEWERS
from ..rules import Refused
from ..zone import bureau_today

# Where each status may go.
TRANSITIONS = {"open": {"notified"}, "notified": {"rectifying"}, "rectifying": {"submitted"},
               "submitted": {"verified", "rectifying"}, "verified": {"closed", "reopened"},
               "closed": {"reopened"}, "reopened": {"rectifying"}}
# Who makes each move: the unit reports its own progress, an inspector verifies by a
# re-check, and the reviewers make every other move.
UNIT_MOVES = {("notified", "rectifying"), ("rectifying", "submitted"),
              ("reopened", "rectifying")}
INSPECTOR_MOVES = {("submitted", "verified")}
MOVERS = REVIEWERS | {"unit", "inspector"}  # who may move a case at all
# Moves that need a reason in words: sending a report back, reopening.
NEED_NOTE = {("submitted", "rectifying"), ("verified", "reopened"), ("closed", "reopened")}
# While the unit owes work, a passed deadline makes the case overdue.
AWAITING_UNIT = frozenset({"notified", "rectifying", "reopened"})


def is_overdue(case, today: date) -> bool:
    return case.status in AWAITING_UNIT and case.deadline < today


def may_move(user, before: str, after: str) -> bool:
    if user.role == "unit":
        return (before, after) in UNIT_MOVES
    if user.role == "inspector":
        return (before, after) in INSPECTOR_MOVES
    if user.role in REVIEWERS:
        return (before, after) not in UNIT_MOVES | INSPECTOR_MOVES
    return False


def move(user, case, status: str, note: str | None = None, detail: dict | None = None) -> bool:
    """Change the status along the state machine, or refuse. False when the case is
    already there (a repeated call changes nothing)."""
    before = case.status
    if status == before:
        return False
    if status not in TRANSITIONS.get(before, ()):
        raise Refused(409, _("A case cannot go from %(a)s to %(b)s.", a=before, b=status))
    if not may_move(user, before, status):
        raise Refused(403, _("Your role may not move a case from %(a)s to %(b)s.",
                             a=before, b=status))
    if (before, status) in NEED_NOTE and not (note or "").strip():
        raise Refused(422, _("Say why in a note: moving a case from %(a)s to %(b)s needs "
                             "one.", a=before, b=status))
    case.status = status
    now = utcnow()
    if status == "notified":
        case.notified_at = case.notified_at or now
        if case.finding.published_at is None:
            case.finding.published_at = now  # from now on the unit sees it
            record("finding_published", actor=user, subject=case.finding,
                   detail={"unit_id": str(case.unit_id), "case_id": str(case.id)})
        db.session.add(Notice(kind="notified", case=case, unit_id=case.unit_id))
    case.closed_at = now if status == "closed" else None
    case.overdue = is_overdue(case, bureau_today())
    record("case_moved", actor=user, subject=case,
           detail={"from": before, "to": status, "note": (note or "").strip() or None}
           | (detail or {}))
    return True
