"""The demo month's audit trail: the decisions and moves its records show, each by the
person who would have made it, at the time it was made, appended to the hash chain as
the desk appends them. Queues events; the load commits them."""

from ..audit.chain import record
from ..models import User
from .followup import STEPS, FollowUp, timeline

# Who makes each move of a case (server.cases.states gives each move to its role).
MOVER = {"notified": "reviewer", "rectifying": "unit", "submitted": "unit",
         "verified": "inspector", "closed": "compiler", "reopened": "compiler"}


def write_trail(followup: FollowUp, shots, users: dict[str, User]):
    people = {}
    for user in users.values():
        people.setdefault(user.role, user)
    contacts = {u.unit_id: u for u in users.values() if u.role == "unit"}
    events = []
    for shot in shots:
        evidence = shot.evidence
        if evidence.reviewed_at is not None:
            events.append((evidence.reviewed_at, "evidence_reviewed", evidence.reviewed_by,
                           evidence, {"from": "pending", "decision": evidence.review_state,
                                      "note": evidence.review_note}))
    reports = {rect.case_id: rect for rect in followup.rectifications}
    for case in followup.cases:
        events += _case_events(case, people, contacts, reports.get(case.id))
    for at, action, actor, subject, detail in sorted(events, key=lambda e: e[0]):
        record(action, actor=actor, subject=subject, detail=detail, at=at)


def _case_events(case, people, contacts, report) -> list:
    finding, reviewer = case.finding, people["reviewer"]
    opened = case.created_at
    found = [(opened, "finding_confirmed", reviewer, finding,
              {"severity": finding.severity, "category": finding.category.code,
               "case_id": str(case.id)}),
             (opened, "case_opened", reviewer, case,
              {"finding_id": str(finding.id), "leader": case.leader_name,
               "deadline": case.deadline.isoformat()})]
    if case.status == "open":
        return found
    times = timeline(finding)
    path = ["open"] + [s for s in STEPS[:STEPS.index(case.status) + 1]
                       if s != "reopened" or case.status == "reopened"]
    for before, after in zip(path, path[1:], strict=False):
        mover = contacts[case.unit_id] if MOVER[after] == "unit" else people[MOVER[after]]
        note = "复查发现问题反弹" if after == "reopened" else None
        found.append((times[after], "case_moved", mover, case,
                      {"from": before, "to": after, "note": note}))
        if after == "notified":
            found.append((times[after], "finding_published", mover, finding,
                          {"unit_id": str(case.unit_id), "case_id": str(case.id)}))
        if after == "submitted":
            found.append((times[after], "rectification_reported", mover, case,
                          {"rectification_id": str(report.id) if report else None,
                           "report": report.report if report else None}))
    return found
