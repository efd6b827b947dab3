"""Who may see what (docs/architecture.md, "Roles"), written in one place.

Three readings of one rule: ``visible`` is the SQL condition that pages, exports and
JSON views filter by; ``keys_for`` and ``user_keys`` are the change feed's audiences, so
a phone pulls exactly what ``visible`` would show it (a test holds the two equal); and
``can_see`` answers for one record in hand. Unit contacts see only published material
of their own unit and never a plan or a check: the time and plan of an unannounced
check must not reach them.
"""

import uuid

import sqlalchemy as sa
from flask_babel import gettext as _

from .errors import Problem
from .extensions import db
from .models import (
    Case,
    Category,
    Check,
    Evidence,
    Finding,
    Plan,
    Rectification,
    Site,
    Unit,
    User,
    plan_assignees,
)
from .roles import PLANNERS, STAFF

# --- In SQL: the rows of a table a user may see ----------------------------------------

def _own_checks(user: User):
    return sa.select(Check.id).where(Check.created_by == user.id)


def _published_findings(user: User):
    return sa.select(Finding.id).where(Finding.unit_id == user.unit_id,
                                       Finding.published_at.is_not(None))


def _unit_cases(user: User):
    return sa.select(Case.id).where(Case.unit_id == user.unit_id,
                                    Case.finding_id.in_(_published_findings(user)))


def _plan(user):
    if user.role in PLANNERS:
        return sa.true()
    if user.role == "supervisor":
        mine = sa.select(plan_assignees.c.plan_id).where(plan_assignees.c.user_id == user.id)
        return Plan.id.in_(mine)
    return sa.false()


def _check(user):
    if user.role in STAFF:
        return sa.true()
    if user.role == "supervisor":
        return Check.created_by == user.id
    return sa.false()


def _finding(user):
    if user.role in STAFF:
        return sa.true()
    if user.role == "supervisor":
        return Finding.check_id.in_(_own_checks(user))
    if user.role == "unit":
        return Finding.id.in_(_published_findings(user))
    return sa.false()


def _evidence(user):
    if user.role in STAFF:
        return sa.true()
    if user.role == "supervisor":
        return Evidence.check_id.in_(_own_checks(user))
    if user.role == "unit":
        of_cases = sa.select(Rectification.id).where(Rectification.case_id.in_(_unit_cases(user)))
        return sa.or_(sa.and_(Evidence.finding_id.in_(_published_findings(user)),
                              Evidence.review_state == "accepted"),
                      Evidence.rectification_id.in_(of_cases),
                      Evidence.created_by == user.id)
    return sa.false()


def _case(user):
    if user.role in STAFF:
        return sa.true()
    if user.role == "unit":
        return Case.id.in_(_unit_cases(user))
    return sa.false()


def _rectification(user):
    if user.role in STAFF:
        return sa.true()
    if user.role == "unit":
        return Rectification.case_id.in_(_unit_cases(user))
    return sa.false()


def _site(user):
    return Site.unit_id == user.unit_id if user.role == "unit" else sa.true()


RULES = {Unit: lambda user: sa.true(), Category: lambda user: sa.true(), Site: _site,
         Plan: _plan, Check: _check, Finding: _finding, Evidence: _evidence, Case: _case,
         Rectification: _rectification}


def visible(user: User, model) -> sa.ColumnElement[bool]:
    """The condition a row of ``model`` must meet for ``user`` to see it."""
    return RULES[model](user)

# --- In the change feed: audience keys --------------------------------------------------
# A user holds a few keys (``all``, ``role:<role>``, and ``sup:<id>`` for a supervisor or
# ``unit:<unit id>`` and ``unituser:<id>`` for a unit contact); a change is pulled by
# everyone holding one of its keys.

STAFF_KEYS = frozenset(f"role:{role}" for role in STAFF)
PLANNER_KEYS = frozenset(f"role:{role}" for role in PLANNERS)
NOT_UNIT_KEYS = STAFF_KEYS | {"role:supervisor", "role:admin"}


def user_keys(user) -> list[str]:
    keys = ["all", f"role:{user.role}"]
    if user.role == "supervisor":
        keys.append(f"sup:{user.id}")
    if user.role == "unit":
        keys += [f"unit:{user.unit_id}", f"unituser:{user.id}"]
    return keys


def _finding_units(finding: Finding | None) -> set[str]:
    if finding is not None and finding.published_at is not None:
        return {f"unit:{finding.unit_id}"}
    return set()


def _case_units(case: Case | None) -> set[str]:
    finding = case.finding if case is not None else None
    if finding is not None and finding.published_at is not None \
            and finding.unit_id == case.unit_id:
        return {f"unit:{case.unit_id}"}
    return set()


def _evidence_keys(record: Evidence) -> set[str]:
    keys = set(STAFF_KEYS) | {f"unituser:{record.created_by}"}
    # Relationships, not ids: a record made earlier in the same push has no ids yet.
    if record.check is not None:
        keys.add(f"sup:{record.check.created_by}")
    if record.review_state == "accepted":  # a unit sees only what a reviewer accepted
        keys |= _finding_units(record.finding)
    if record.rectification is not None:
        keys |= _case_units(record.rectification.case)
    return keys


def keys_for(record) -> set[str]:
    """The audience of ``record`` as it is now."""
    match record:
        case Unit() | Category():
            return {"all"}
        case Site():
            return set(NOT_UNIT_KEYS) | {f"unit:{record.unit_id}"}
        case Plan():
            return set(PLANNER_KEYS) | {f"sup:{u.id}" for u in record.assignees}
        case Check():
            return set(STAFF_KEYS) | {f"sup:{record.created_by}"}
        case Finding():
            return set(STAFF_KEYS) | {f"sup:{record.check.created_by}"} | _finding_units(record)
        case Evidence():
            return _evidence_keys(record)
        case Case():
            return set(STAFF_KEYS) | _case_units(record)
        case Rectification():
            return set(STAFF_KEYS) | _case_units(record.case)
    raise TypeError(f"no audience for {type(record).__name__}")


# --- One record in hand -----------------------------------------------------------------

def can_see(user: User, record) -> bool:
    """Whether ``user`` may see ``record`` as it is now (held in memory, maybe unsaved)."""
    return bool(keys_for(record) & set(user_keys(user)))


def as_uuid(text) -> uuid.UUID | None:
    """The id a URL or form names, or None when it names none."""
    try:
        return uuid.UUID(str(text)) if text else None
    except ValueError:
        return None


def visible_record(user: User, model, ident, detail: str):
    """The live record ``ident`` names, if ``user`` may see it. Otherwise 404, alike for
    an id that is malformed, unknown, deleted or not theirs: a guess learns nothing."""
    found = db.session.get(model, as_uuid(ident)) if as_uuid(ident) else None
    if found is None or getattr(found, "deleted_at", None) is not None \
            or not can_see(user, found):
        raise Problem(404, _("Not found"), detail)
    return found
