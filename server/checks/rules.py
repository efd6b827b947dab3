"""The rules of checks and findings: who may record or change them, and how a change
merges."""

from flask_babel import gettext as _

from sync.records import APPEND_ONLY

from ..models import Category, Check, Finding, Plan, Site, Unit, utcnow
from ..roles import FIELD_STAFF, REVIEWERS
from ..rules import (
    PushContext,
    Refused,
    assign,
    existing,
    merge_lines,
    new_record,
    own,
    require,
    union,
)


class CheckRules:
    model = Check
    append_only = APPEND_ONLY["check"]

    def create(self, ctx: PushContext, entity_id, fields):
        user = ctx.user
        if user.role not in FIELD_STAFF:
            raise Refused(403, _("Your role may not record checks."))
        require(fields, "site_id", "mode", "started_at")
        check = new_record(Check, id=entity_id, created_by=user.id, received_at=utcnow(),
                           notes="")
        self.update(ctx, check, fields)
        return check

    def may_change(self, ctx: PushContext, check):
        own(ctx.user, check.created_by)

    def update(self, ctx: PushContext, check, fields):
        for name in ("site_id", "mode", "started_at"):
            if name in fields and fields[name] is None:
                raise Refused(422, _("%(field)s cannot be cleared.", field=name))
        if "site_id" in fields:
            # The id: a check need not carry (or cascade to) the site object.
            assign(check, site_id=existing(ctx, Site, fields["site_id"], "site_id").id)
        if fields.get("plan_id") is not None and ctx.lookup(Plan, fields["plan_id"]) is None:
            # Any plan that exists: one cancelled, or given to someone else, since the
            # check was started offline under it is still the check's plan.
            existing(ctx, Plan, None, "plan_id")
        assign(check, **{name: fields[name] for name in ("plan_id", "mode", "started_at",
                                                         "ended_at") if name in fields})
        if "location" in fields:
            assign(check, location=fields["location"].model_dump() if fields["location"]
                   else None)
        if fields.get("notes") is not None:
            assign(check, notes=merge_lines(check.notes or "", fields["notes"]))
        if check.ended_at is not None and check.ended_at < check.started_at:
            raise Refused(422, _("A check cannot end before it starts."),
                           [{"field": "data.ended_at", "message": _("Before started_at.")}])

    def may_delete(self, ctx: PushContext, check):
        self.may_change(ctx, check)


class FindingRules:
    model = Finding
    append_only = APPEND_ONLY["finding"]

    def create(self, ctx: PushContext, entity_id, fields):
        user = ctx.user
        if user.role not in FIELD_STAFF:
            raise Refused(403, _("Your role may not record findings."))
        require(fields, "check_id", "category_id")
        check = existing(ctx, Check, fields["check_id"], "check_id")
        own(user, check.created_by)
        category = existing(ctx, Category, fields["category_id"], "category_id")
        site = ctx.lookup(Site, check.site_id)
        finding = new_record(Finding, id=entity_id, unit_id=site.unit_id,
                             severity=fields.get("severity") or category.default_severity,
                             created_by=user.id, description="", evidence_ids=[],
                             state="pending")
        finding.check, finding.category = check, category
        self.update(ctx, finding, fields)
        return finding

    def may_change(self, ctx: PushContext, finding):
        if ctx.user.role in REVIEWERS:
            return
        own(ctx.user, finding.created_by)
        if finding.state != "pending" or finding.published_at is not None:
            raise Refused(409, _("A reviewed finding is changed only by reviewers."))

    def update(self, ctx: PushContext, finding, fields):
        if fields.get("category_id") is not None:
            finding.category = existing(ctx, Category, fields["category_id"], "category_id")
        if fields.get("unit_id") is not None:
            assign(finding, unit_id=existing(ctx, Unit, fields["unit_id"], "unit_id").id)
        assign(finding, **{name: fields[name] for name in ("severity", "description")
                           if fields.get(name) is not None})
        if fields.get("evidence_ids"):
            assign(finding, evidence_ids=union(finding.evidence_ids or [],
                                               fields["evidence_ids"], "evidence_ids"))

    def may_delete(self, ctx: PushContext, finding):
        self.may_change(ctx, finding)
        if finding.state != "pending":
            raise Refused(409, _("A reviewed finding cannot be deleted."))
