"""Push rules for checks and findings."""

from flask_babel import gettext as _

from sync.records import APPEND_ONLY

from ...models import Category, Check, Finding, Plan, Site, Unit, utcnow
from .common import (
    FIELD_STAFF,
    REVIEWERS,
    Rejected,
    existing,
    lookup,
    merge_lines,
    new_record,
    own,
    require,
    union,
)


class CheckRules:
    model = Check
    append_only = APPEND_ONLY["check"]

    def create(self, user, entity_id, fields):
        if user.role not in FIELD_STAFF:
            raise Rejected(403, _("Your role may not record checks."))
        require(fields, "site_id", "mode", "started_at")
        check = new_record(Check, id=entity_id, created_by=user.id, received_at=utcnow(),
                           notes="")
        self.update(user, check, fields)
        return check

    def may_change(self, user, check):
        own(user, check.created_by)

    def update(self, user, check, fields):
        for name in ("site_id", "mode", "started_at"):
            if name in fields and fields[name] is None:
                raise Rejected(422, _("%(field)s cannot be cleared.", field=name))
        if "site_id" in fields:
            # The id: a check need not carry (or cascade to) the site object.
            check.site_id = existing(Site, fields["site_id"], user, "site_id").id
        if fields.get("plan_id") is not None:
            existing(Plan, fields["plan_id"], user, "plan_id")
        for name in ("plan_id", "mode", "started_at", "ended_at"):
            if name in fields:
                setattr(check, name, fields[name])
        if "location" in fields:
            check.location = fields["location"].model_dump() if fields["location"] else None
        if fields.get("notes") is not None:
            check.notes = merge_lines(check.notes or "", fields["notes"])
        if check.ended_at is not None and check.ended_at < check.started_at:
            raise Rejected(422, _("A check cannot end before it starts."),
                           [{"field": "data.ended_at", "message": _("Before started_at.")}])

    def may_delete(self, user, check):
        self.may_change(user, check)


class FindingRules:
    model = Finding
    append_only = APPEND_ONLY["finding"]

    def create(self, user, entity_id, fields):
        if user.role not in FIELD_STAFF:
            raise Rejected(403, _("Your role may not record findings."))
        require(fields, "check_id", "category_id")
        check = existing(Check, fields["check_id"], user, "check_id")
        own(user, check.created_by)
        category = existing(Category, fields["category_id"], user, "category_id")
        site = lookup(Site, check.site_id)
        finding = new_record(Finding, id=entity_id, unit_id=site.unit_id,
                             severity=fields.get("severity") or category.default_severity,
                             created_by=user.id, description="", evidence_ids=[],
                             state="pending")
        finding.check, finding.category = check, category
        self.update(user, finding, fields)
        return finding

    def may_change(self, user, finding):
        if user.role not in REVIEWERS:
            own(user, finding.created_by)

    def update(self, user, finding, fields):
        if fields.get("category_id") is not None:
            finding.category = existing(Category, fields["category_id"], user, "category_id")
        if fields.get("unit_id") is not None:
            finding.unit_id = existing(Unit, fields["unit_id"], user, "unit_id").id
        for name in ("severity", "description"):
            if fields.get(name) is not None:
                setattr(finding, name, fields[name])
        if fields.get("evidence_ids"):
            finding.evidence_ids = union(finding.evidence_ids or [], fields["evidence_ids"])

    def may_delete(self, user, finding):
        self.may_change(user, finding)
        if finding.state != "pending":
            raise Rejected(409, _("A reviewed finding cannot be deleted."))
