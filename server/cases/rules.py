"""The rules of cases and of units' rectification reports: who may open, change or
delete them, and how a change merges."""

import uuid

from flask_babel import gettext as _

from sync.records import APPEND_ONLY

from ..audit.chain import record
from ..extensions import db
from ..models import Case, Evidence, Finding, Rectification, Unit
from ..roles import REVIEWERS
from ..rules import PushContext, Refused, existing, new_record, own, require, union
from ..visibility import can_see
from .states import MOVERS, move


class CaseRules:
    model = Case
    append_only = APPEND_ONLY["case"]

    def create(self, ctx: PushContext, entity_id, fields):
        user = ctx.user
        if user.role not in REVIEWERS:
            raise Refused(403, _("Only reviewers open cases."))
        require(fields, "finding_id", "deadline")
        finding = existing(ctx, Finding, fields["finding_id"], "finding_id")
        if finding.state == "dismissed":
            raise Refused(409, _("A dismissed finding cannot become a case."))
        if db.session.scalar(db.select(Case.id).where(Case.finding_id == finding.id)):
            raise Refused(409, _("This finding already has a case."))
        unit = existing(ctx, Unit, fields.get("unit_id") or finding.unit_id, "unit_id")
        finding.state = "confirmed"
        case = new_record(Case, id=entity_id, finding_id=finding.id, unit_id=unit.id,
                          status="open", leader_name=unit.leader_name,
                          deadline=fields["deadline"], overdue=False)
        record("case_opened", actor=user, subject=case,
               detail={"finding_id": str(finding.id), "via": "sync"})
        self.update(ctx, case, {k: v for k, v in fields.items() if k != "status"})
        if fields.get("status") not in (None, "open"):
            move(user, case, fields["status"])
        return case

    def may_change(self, ctx: PushContext, case):
        if ctx.user.role not in MOVERS:
            raise Refused(403, _("Your role may not change cases."))

    def update(self, ctx: PushContext, case, fields):
        user = ctx.user
        if user.role == "unit" and set(fields) - {"status"}:
            raise Refused(403, _("A unit may only report progress on its case."))
        if fields.get("finding_id") not in (None, case.finding_id):
            raise Refused(409, _("A case cannot move to another finding."))
        if fields.get("unit_id") is not None:
            case.unit_id = existing(ctx, Unit, fields["unit_id"], "unit_id").id
        for name in ("leader_name", "deadline"):
            if fields.get(name) is not None:
                setattr(case, name, fields[name])
        if fields.get("status") is not None:
            move(user, case, fields["status"])

    def may_delete(self, ctx: PushContext, case):
        if ctx.user.role not in REVIEWERS or case.status != "open":
            raise Refused(409, _("Only a reviewer may delete a case, and only while open."))


class RectificationRules:
    model = Rectification
    append_only = APPEND_ONLY["rectification"]

    def create(self, ctx: PushContext, entity_id, fields):
        user = ctx.user
        if user.role != "unit":
            raise Refused(403, _("Rectifications are reported by the unit."))
        require(fields, "case_id")
        case = existing(ctx, Case, fields["case_id"], "case_id")
        rect = new_record(Rectification, id=entity_id, case_id=case.id, report="",
                          evidence_ids=[], created_by=user.id)
        self.update(ctx, rect, fields)
        record("rectification_reported", actor=user, subject=case,
               detail={"rectification_id": str(entity_id), "report": rect.report})
        return rect

    def may_change(self, ctx: PushContext, rect):
        own(ctx.user, rect.created_by)

    def update(self, ctx: PushContext, rect, fields):
        if fields.get("case_id") not in (None, rect.case_id):
            raise Refused(409, _("A rectification cannot move to another case."))
        for name in ("report", "submitted_at"):
            if fields.get(name) is not None:
                setattr(rect, name, fields[name])
        if fields.get("evidence_ids"):
            rect.evidence_ids = union(rect.evidence_ids or [],
                                      fields["evidence_ids"], "evidence_ids")
            _link_evidence(ctx, rect)

    def may_delete(self, ctx: PushContext, rect):
        self.may_change(ctx, rect)
        if rect.case.status in ("verified", "closed"):
            raise Refused(409, _("The rectification of a verified case stays."))


def _link_evidence(ctx, rect):
    """Tie the unit's own evidence to the report, so colleagues of the unit see it too;
    also evidence made earlier in this push."""
    user = ctx.user
    ids = {uuid.UUID(str(value)) for value in rect.evidence_ids}
    found = {e.id: e for e in ctx.made(Evidence) if e.id in ids}
    for evidence in db.session.scalars(db.select(Evidence).where(
            Evidence.created_by == user.id, Evidence.id.in_(ids))):
        found.setdefault(evidence.id, evidence)
    for evidence in found.values():
        if evidence.created_by == user.id and can_see(user, evidence):
            evidence.rectification = rect

