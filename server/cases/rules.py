"""Push rules for cases (with their state machine) and units' rectification reports."""

import uuid

from flask_babel import gettext as _

from sync.records import APPEND_ONLY

from ...extensions import db
from ...models import Case, Evidence, Finding, Rectification, Unit
from .common import (
    REVIEWERS,
    Rejected,
    can_see,
    existing,
    in_this_push,
    new_record,
    own,
    require,
    union,
)

# Where each status may go; the moves a unit contact may make itself are listed apart.
TRANSITIONS = {"open": {"notified"}, "notified": {"rectifying"}, "rectifying": {"submitted"},
               "submitted": {"verified", "rectifying"}, "verified": {"closed", "reopened"},
               "closed": {"reopened"}, "reopened": {"rectifying"}}
UNIT_MOVES = {("notified", "rectifying"), ("rectifying", "submitted"),
              ("reopened", "rectifying")}


def move(user, case, status: str):
    """Change the status along the state machine, or refuse."""
    if status == case.status:
        return
    if status not in TRANSITIONS[case.status]:
        raise Rejected(409, _("A case cannot go from %(a)s to %(b)s.", a=case.status, b=status))
    if user.role == "unit" and (case.status, status) not in UNIT_MOVES:
        raise Rejected(403, _("Only the supervision group may move a case from %(a)s to "
                              "%(b)s.", a=case.status, b=status))
    case.status = status


class CaseRules:
    model = Case
    append_only = APPEND_ONLY["case"]

    def create(self, user, entity_id, fields):
        if user.role not in REVIEWERS:
            raise Rejected(403, _("Only reviewers open cases."))
        require(fields, "finding_id", "deadline")
        finding = existing(Finding, fields["finding_id"], user, "finding_id")
        if finding.state == "dismissed":
            raise Rejected(409, _("A dismissed finding cannot become a case."))
        if db.session.scalar(db.select(Case.id).where(Case.finding_id == finding.id)):
            raise Rejected(409, _("This finding already has a case."))
        unit = existing(Unit, fields.get("unit_id") or finding.unit_id, user, "unit_id")
        finding.state = "confirmed"
        case = new_record(Case, id=entity_id, finding_id=finding.id, unit_id=unit.id,
                          status="open", leader_name=unit.leader_name,
                          deadline=fields["deadline"], overdue=False)
        self.update(user, case, {k: v for k, v in fields.items() if k != "status"})
        if fields.get("status") not in (None, "open"):
            move(user, case, fields["status"])
        return case

    def may_change(self, user, case):
        if user.role not in REVIEWERS | {"unit"}:
            raise Rejected(403, _("Your role may not change cases."))

    def update(self, user, case, fields):
        if user.role == "unit" and set(fields) - {"status"}:
            raise Rejected(403, _("A unit may only report progress on its case."))
        if fields.get("finding_id") not in (None, case.finding_id):
            raise Rejected(409, _("A case cannot move to another finding."))
        if fields.get("unit_id") is not None:
            case.unit_id = existing(Unit, fields["unit_id"], user, "unit_id").id
        for name in ("leader_name", "deadline"):
            if fields.get(name) is not None:
                setattr(case, name, fields[name])
        if fields.get("status") is not None:
            move(user, case, fields["status"])

    def may_delete(self, user, case):
        if user.role not in REVIEWERS or case.status != "open":
            raise Rejected(409, _("Only a reviewer may delete a case, and only while open."))


class RectificationRules:
    model = Rectification
    append_only = APPEND_ONLY["rectification"]

    def create(self, user, entity_id, fields):
        if user.role != "unit":
            raise Rejected(403, _("Rectifications are reported by the unit."))
        require(fields, "case_id")
        case = existing(Case, fields["case_id"], user, "case_id")
        rect = new_record(Rectification, id=entity_id, case_id=case.id, report="",
                          evidence_ids=[], created_by=user.id)
        self.update(user, rect, fields)
        return rect

    def may_change(self, user, rect):
        own(user, rect.created_by)

    def update(self, user, rect, fields):
        if fields.get("case_id") not in (None, rect.case_id):
            raise Rejected(409, _("A rectification cannot move to another case."))
        for name in ("report", "submitted_at"):
            if fields.get(name) is not None:
                setattr(rect, name, fields[name])
        if fields.get("evidence_ids"):
            rect.evidence_ids = union(rect.evidence_ids or [], fields["evidence_ids"])
            _link_evidence(user, rect)

    def may_delete(self, user, rect):
        self.may_change(user, rect)
        if rect.case.status in ("verified", "closed"):
            raise Rejected(409, _("The rectification of a verified case stays."))


def _link_evidence(user, rect):
    """Tie the unit's own evidence to the report, so colleagues of the unit see it too;
    also evidence made earlier in this push."""
    ids = {uuid.UUID(str(value)) for value in rect.evidence_ids}
    found = {e.id: e for e in in_this_push(Evidence) if e.id in ids}
    for evidence in db.session.scalars(db.select(Evidence).where(
            Evidence.created_by == user.id, Evidence.id.in_(ids))):
        found.setdefault(evidence.id, evidence)
    for evidence in found.values():
        if evidence.created_by == user.id and can_see(user, evidence):
            evidence.rectification = rect

