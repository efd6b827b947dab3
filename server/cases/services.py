"""What reviewers and units do with findings and cases: confirm a finding into a case or
dismiss it, move a case, list cases, and mark overdue ones. Flush, never commit."""

import base64
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from sync.desk import MONTH

from ..audit.chain import record
from ..extensions import db
from ..models import Case, Category, Check, Finding, Notice, Unit, utcnow
from ..roles import REVIEWERS
from ..rules import Refused
from ..visibility import visible
from ..zone import bureau_today, month_bounds
from .states import AWAITING_UNIT, is_overdue, move


@dataclass(frozen=True)
class Confirmation:
    """What a reviewer decides when confirming; ``None`` takes the default."""

    severity: str
    category_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    leader_name: str | None = None
    deadline: date | None = None


def _reviewer(user):
    if user.role not in REVIEWERS:
        raise Refused(403, _("Only reviewers confirm or dismiss findings."))


def _one(model, ident, field):
    found = db.session.get(model, ident) if ident is not None else None
    if found is None or getattr(found, "deleted_at", None) is not None:
        raise Refused(422, _("No such record for %(field)s.", field=field))
    return found


def confirm(user, finding: Finding, wanted: Confirmation, case_id=None) -> tuple[Case, bool]:
    """Open the finding's case; (case, False) when the same confirmation was made before.
    Defaults: the finding's unit (the site's unless the inspector chose another), that
    unit's 包挂领导, and the category's deadline counted from today."""
    _reviewer(user)
    if finding.state == "dismissed":
        raise Refused(409, _("This finding was dismissed; it cannot become a case."))
    category = _one(Category, wanted.category_id or finding.category_id, "category_id")
    unit = _one(Unit, wanted.unit_id or finding.unit_id, "unit_id")
    leader = (wanted.leader_name or "").strip() or unit.leader_name
    deadline = wanted.deadline or bureau_today() + timedelta(days=category.default_deadline_days)
    existing = db.session.scalar(sa.select(Case).where(Case.finding_id == finding.id))
    if existing is not None:
        same = (existing.unit_id, existing.leader_name, finding.severity,
                finding.category_id) == (unit.id, leader, wanted.severity, category.id) \
            and wanted.deadline in (None, existing.deadline)
        if same:
            return existing, False
        raise Refused(409, _("This finding is already confirmed; change its case instead."))
    finding.state, finding.severity, finding.category_id = "confirmed", wanted.severity, \
        category.id
    finding.unit_id, finding.decided_by, finding.decided_at = unit.id, user.id, utcnow()
    case = Case(id=case_id or uuid.uuid4(), finding=finding, unit_id=unit.id,
                leader_name=leader, deadline=deadline, status="open", overdue=False)
    db.session.add(case)
    db.session.flush()
    record("finding_confirmed", actor=user, subject=finding,
           detail={"severity": wanted.severity, "category": category.code,
                   "case_id": str(case.id)})
    record("case_opened", actor=user, subject=case,
           detail={"finding_id": str(finding.id), "unit": unit.name, "leader": leader,
                   "deadline": deadline.isoformat()})
    return case, True


def dismiss(user, finding: Finding, note: str) -> bool:
    """Dismiss the finding with a reason; False when it already was, for that reason."""
    _reviewer(user)
    note = note.strip()
    if not note:
        raise Refused(422, _("Say why the finding is dismissed."))
    if finding.state == "dismissed" and finding.decision_note == note:
        return False
    if finding.state == "confirmed":
        raise Refused(409, _("This finding is confirmed and has a case; it cannot be "
                             "dismissed."))
    finding.state, finding.decision_note = "dismissed", note
    finding.decided_by, finding.decided_at = user.id, utcnow()
    record("finding_dismissed", actor=user, subject=finding, detail={"note": note})
    return True


def transition(user, case: Case, to: str, note: str | None = None,
               recheck_id: uuid.UUID | None = None) -> bool:
    """Move the case (see ``states``); False when it is there already. Verifying may name
    the re-check: a check at the case's site since the unit was told, whose evidence
    shows the fix; it is kept in the case's history."""
    detail = None
    if recheck_id is not None:
        if to != "verified":
            raise Refused(422, _("Only a verification names a re-check."))
        detail = {"recheck_id": str(_recheck(user, case, recheck_id).id)}
    return move(user, case, to, note, detail)


def rechecks(case: Case) -> list[Check]:
    """Checks at the case's site since its unit was told: the candidates for its
    re-check, newest first."""
    site_id = sa.select(Check.site_id).where(Check.id == case.finding.check_id)
    return db.session.scalars(sa.select(Check).where(
        Check.site_id == site_id.scalar_subquery(), Check.deleted_at.is_(None),
        Check.id != case.finding.check_id,
        Check.started_at >= (case.notified_at or case.created_at))
        .order_by(Check.started_at.desc()).limit(20)).all()


def _recheck(user, case: Case, recheck_id) -> Check:
    found = next((c for c in rechecks(case) if c.id == recheck_id), None)
    if found is None:
        raise Refused(422, _("The re-check must be a check at the case's site made since "
                             "the unit was told."))
    return found


def escalate(today: date | None = None) -> int:
    """Mark the cases whose deadline passed while the unit owed work, and tell the unit
    and the compilers; clear the mark where a deadline moved. Returns how many were
    newly marked. Safe to run often and on several hosts at once."""
    today = today or bureau_today()
    due = sa.select(Case).where(
        Case.deleted_at.is_(None),
        sa.or_(sa.and_(Case.overdue.is_(False), Case.status.in_(AWAITING_UNIT),
                       Case.deadline < today),
               sa.and_(Case.overdue.is_(True),
                       sa.or_(Case.status.not_in(AWAITING_UNIT), Case.deadline >= today))))
    marked = 0
    for case in db.session.scalars(due.with_for_update(skip_locked=True)):
        case.overdue = is_overdue(case, today)
        if not case.overdue:
            continue
        marked += 1
        case.escalated_on = today
        db.session.add_all([Notice(kind="overdue", case=case, unit_id=case.unit_id),
                            Notice(kind="overdue", case=case, role="compiler")])
        record("case_overdue", subject=case, detail={"deadline": case.deadline.isoformat()})
    db.session.flush()
    return marked


# --- Lists ------------------------------------------------------------------------------

@dataclass(frozen=True)
class CaseFilter:
    status: str | None = None
    unit_id: uuid.UUID | None = None
    overdue: bool | None = None
    month: str | None = None  # YYYY-MM: cases opened in that month, in the bureau's time


def cases_query(user, wanted: CaseFilter):
    """The cases ``user`` may see that match, newest first (a unit: its notified ones)."""
    query = (sa.select(Case).where(visible(user, Case), Case.deleted_at.is_(None))
             .options(joinedload(Case.finding).joinedload(Finding.category),
                      joinedload(Case.unit)))
    if user.role == "unit":
        query = query.where(Case.status != "open")
    if wanted.status:
        query = query.where(Case.status == wanted.status)
    if wanted.unit_id:
        query = query.where(Case.unit_id == wanted.unit_id)
    if wanted.overdue is not None:
        query = query.where(Case.overdue.is_(wanted.overdue))
    if wanted.month:
        first, after = month_bounds(wanted.month)
        query = query.where(Case.created_at >= first, Case.created_at < after)
    return query


def is_month(text: str) -> bool:
    return MONTH.match(text) is not None


def page_of_cases(user, wanted: CaseFilter, cursor: str | None, limit: int):
    """(cases, next cursor, more): keyset pages by (created_at, id), newest first."""
    query = cases_query(user, wanted)
    if cursor:
        at, ident = _read_cursor(cursor)
        query = query.where(sa.or_(Case.created_at < at,
                                   sa.and_(Case.created_at == at, Case.id < ident)))
    rows = db.session.scalars(query.order_by(Case.created_at.desc(), Case.id.desc())
                              .limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    next_cursor = _write_cursor(last) if last is not None else cursor
    return rows, next_cursor, more


def _write_cursor(case: Case) -> str:
    raw = f"{case.created_at.isoformat()}|{case.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _read_cursor(cursor: str):
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, ident = raw.split("|")
        return datetime.fromisoformat(at), uuid.UUID(ident)
    except (ValueError, UnicodeDecodeError):
        raise Refused(422, _("This cursor is not one the server gave.")) from None

