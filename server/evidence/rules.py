"""The rules of evidence records (their files arrive by tus upload): who may record them,
what may change, and how a record meets a file that arrived first."""

from flask_babel import gettext as _

from sync.records import APPEND_ONLY

from ..extensions import db
from ..models import Check, Evidence, Finding, Rectification
from ..roles import FIELD_STAFF
from ..rules import PushContext, Refused, assign, existing, new_record, own, require
from .jobs import attach
from .ownership import completed_uploads

CAPTURED = ("filename", "captured_at", "location")  # with kind, sha256 and size: set once


class EvidenceRules:
    model = Evidence
    append_only = APPEND_ONLY["evidence"]

    def prefetch(self, ctx: PushContext, ids):
        """Which of a batch's evidence already have their file, in one query: a phone
        often uploads its photos first and syncs their records later, by the hundred."""
        ctx.uploads.update(completed_uploads(ctx.user.id, ids))

    def create(self, ctx: PushContext, entity_id, fields):
        user = ctx.user
        require(fields, "kind", "sha256", "size")
        evidence = new_record(Evidence, id=entity_id, kind=fields["kind"],
                              sha256=fields["sha256"], size=fields["size"],
                              created_by=user.id, state="awaiting_upload",
                              review_state="pending", clock_offset_s=ctx.clock_offset)
        if user.role in FIELD_STAFF:
            require(fields, "check_id")
            check = existing(ctx, Check, fields["check_id"], "check_id")
            own(user, check.created_by)
            evidence.check = check
        elif user.role == "unit":
            if fields.get("check_id") is not None:
                raise Refused(403, _("A unit's evidence belongs to a rectification, "
                                     "not to a check."))
            evidence.rectification = _rectification_listing(ctx, entity_id)
        else:
            raise Refused(403, _("Your role may not add evidence."))
        self.update(ctx, evidence, fields)
        _meet_upload(ctx, evidence)
        return evidence

    def may_change(self, ctx: PushContext, evidence):
        own(ctx.user, evidence.created_by)

    def update(self, ctx: PushContext, evidence, fields):
        for name in ("kind", "sha256", "size"):  # set by create
            if fields.get(name) is not None and fields[name] != getattr(evidence, name):
                raise Refused(409, _("The file of a piece of evidence cannot change; "
                                     "record new evidence instead."))
        if fields.get("finding_id") is not None:
            finding = existing(ctx, Finding, fields["finding_id"], "finding_id")
            if finding.check is not evidence.check:
                raise Refused(422, _("The finding belongs to another check."))
            evidence.finding = finding
        if fields.get("location") is not None:
            fields = fields | {"location": fields["location"].model_dump()}
        for name in CAPTURED:  # what the phone captured is set once
            if fields.get(name) is None or fields[name] == getattr(evidence, name):
                continue
            if getattr(evidence, name) is not None:
                raise Refused(409, _("%(field)s was set when the evidence was captured and "
                                     "cannot change.", field=name),
                              [{"field": f"data.{name}", "message": _("Set once.")}])
            assign(evidence, **{name: fields[name]})

    def may_delete(self, ctx: PushContext, evidence):
        self.may_change(ctx, evidence)
        if evidence.review_state != "pending":
            raise Refused(409, _("Reviewed evidence cannot be deleted."))


def _rectification_listing(ctx: PushContext, evidence_id) -> Rectification | None:
    """The user's rectification that lists this evidence, if it arrived first (before,
    or earlier in this push)."""
    user = ctx.user
    stored = db.session.scalars(db.select(Rectification).where(
        Rectification.created_by == user.id, Rectification.deleted_at.is_(None)))
    for rect in [*ctx.made(Rectification), *stored]:
        if rect.created_by == user.id and rect.deleted_at is None \
                and str(evidence_id) in (rect.evidence_ids or []):
            return rect
    return None


def _meet_upload(ctx: PushContext, evidence: Evidence):
    """The file may have arrived before the record: they meet by evidence id, if the
    record's creator uploaded it (ctx.uploads holds only the pushing user's uploads)."""
    if evidence.id not in ctx.uploads:  # outside a batch's prefetch
        ctx.uploads.update(completed_uploads(ctx.user.id, [evidence.id]))
    upload = ctx.uploads[evidence.id]
    if upload is None:
        return
    if upload.sha256 != evidence.sha256:
        raise Refused(409, _("The file you uploaded for this evidence has another sha256."))
    attach(evidence, upload)
