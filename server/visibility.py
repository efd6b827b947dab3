"""Which records each role may see, as SQL conditions (design.md "People and what each may see").

One function answers for every reader — pages, API, sync pull, exports — so a rule is
written once. Unit contacts see only published material of their own unit and never a
plan or a check: the time and plan of an unannounced check must not reach them.
"""

import sqlalchemy as sa

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

STAFF = {"inspector", "reviewer", "compiler"}
PLANNERS = {"inspector", "compiler"}


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
        return sa.or_(Evidence.finding_id.in_(_published_findings(user)),
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
