"""After the checks: cases opened from findings, the units' rectifications and what the
units were told, so that every status a case can be in occurs. Adds, never flushes: the
month is written at once (services.load_demo)."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from ..extensions import db
from ..models import Case, Finding, Notice, Rectification, User
from . import data
from .activity import LOCAL, on_working_day

# What became of the month's published findings, oldest first: the oldest went round the
# whole loop and came back, or were let slip; the newer ones are on their way. The first
# six hold every status after "open"; a fate that needs more time than its finding had
# stops at the last step reached by now.
FATES = ("reopened", "notified", "closed", "verified", "submitted", "rectifying", "closed",
         "rectifying")
STEPS = ("notified", "rectifying", "submitted", "verified", "closed", "reopened")
AWAITING_UNIT = ("notified", "rectifying", "reopened")  # a passed deadline makes these overdue
REPORTED = ("submitted", "verified", "closed", "reopened")  # the unit has sent its report
OPEN_AFTER = timedelta(days=2)  # a finding is confirmed and its case opened after this


@dataclass
class FollowUp:
    """The month's cases and the rectifications the units reported."""

    cases: list[Case]
    rectifications: list[Rectification]


def open_cases(now: datetime, findings: list[Finding], users: dict[str, User]) -> FollowUp:
    """A case for each published finding, and one opened but not notified yet."""
    contacts = {user.unit_id: user for user in users.values() if user.role == "unit"}
    published = sorted((f for f in findings if f.published_at), key=lambda f: f.published_at)
    found = FollowUp([], [])
    for n, finding in enumerate(published):
        case = _notified_case(finding, now, FATES[n % len(FATES)])
        found.cases.append(case)
        if case.status in REPORTED:
            found.rectifications.append(_rectification(case, contacts[case.unit_id]))
    waiting = [f for f in findings if not f.published_at and now - f.created_at > OPEN_AFTER]
    if waiting:
        found.cases.append(_open_case(max(waiting, key=lambda f: f.created_at), now))
    db.session.add_all(found.cases + found.rectifications)
    return found


def timeline(finding: Finding) -> dict[str, datetime]:
    """When each step would have been taken, had the case gone round the whole loop."""
    published, days = finding.published_at, finding.category.default_deadline_days
    submitted = on_working_day(published + timedelta(days=max(1, days // 2)), time(15))
    verified = on_working_day(submitted + timedelta(days=1), time(10))  # a re-check on site
    closed = on_working_day(verified, time(16))
    return {"notified": published,
            "rectifying": on_working_day(published + timedelta(days=1), time(9)),
            "submitted": submitted, "verified": verified, "closed": closed,
            # A later visit found the problem back.
            "reopened": on_working_day(closed + timedelta(days=2), time(11))}


def _notified_case(finding: Finding, now: datetime, fate: str) -> Case:
    times = timeline(finding)
    path = [step for step in STEPS[:STEPS.index(fate) + 1]
            if step != "reopened" or fate == "reopened"]
    status = [step for step in path if times[step] <= now][-1]
    published = finding.published_at
    deadline = published.astimezone(LOCAL).date() + timedelta(
        days=finding.category.default_deadline_days)
    case = Case(finding=finding, unit_id=finding.unit_id, deadline=deadline,
                leader_name=_leader(finding), status=status, notified_at=published,
                closed_at=times["closed"] if status == "closed" else None,
                created_at=published, updated_at=times[status])
    db.session.add(Notice(kind="notified", case=case, unit_id=case.unit_id, at=published))
    case.overdue = status in AWAITING_UNIT and now.astimezone(LOCAL).date() > deadline
    if case.overdue:  # marked, and told, as the sweeper does on the first day past it
        case.escalated_on = deadline + timedelta(days=1)
        told = min(datetime.combine(case.escalated_on, time(8), LOCAL), now)
        db.session.add_all([Notice(kind="overdue", case=case, unit_id=case.unit_id, at=told),
                            Notice(kind="overdue", case=case, role="compiler", at=told)])
    return case


def _rectification(case: Case, contact: User) -> Rectification:
    submitted = timeline(case.finding)["submitted"]
    return Rectification(case=case, report=data.RECTIFICATIONS[case.finding.category.code],
                         submitted_at=submitted, created_by=contact.id,
                         created_at=submitted, updated_at=submitted)


def _open_case(finding: Finding, now: datetime) -> Case:
    """The newest finding old enough: confirmed, its case opened, the unit not told yet
    (it will be, with the next bulletin)."""
    opened = min(on_working_day(finding.created_at + timedelta(days=1), time(11)), now)
    finding.state = "confirmed"
    deadline = opened.astimezone(LOCAL).date() + timedelta(
        days=1 + finding.category.default_deadline_days)
    return Case(finding=finding, unit_id=finding.unit_id, deadline=deadline,
                leader_name=_leader(finding), status="open", overdue=False,
                created_at=opened, updated_at=opened)


def _leader(finding: Finding) -> str | None:
    # The finding is not written yet, so it has no unit to load: its site's unit has.
    return finding.check.site.unit.leader_name
