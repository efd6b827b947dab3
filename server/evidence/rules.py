"""Push rules for evidence records (the files arrive by tus upload)."""

from flask_babel import gettext as _

from sync.records import APPEND_ONLY

from ...extensions import db
from ...models import Check, Evidence, Finding, Rectification
from .common import FIELD_STAFF, Rejected, existing, in_this_push, new_record, own, require


class EvidenceRules:
    model = Evidence
    append_only = APPEND_ONLY["evidence"]

    def prefetch(self, ids):
        """Which of a batch's evidence already have their file, in one query: a phone
        often uploads its photos first and syncs their records later, by the hundred."""
        from ...uploads.services import completed_uploads

        db.session.info.setdefault("push_uploads", {}).update(completed_uploads(ids))

    def create(self, user, entity_id, fields):
        require(fields, "kind", "sha256", "size")
        evidence = new_record(Evidence, id=entity_id, kind=fields["kind"],
                              sha256=fields["sha256"], size=fields["size"],
                              created_by=user.id, state="awaiting_upload",
                              review_state="pending")
        if user.role in FIELD_STAFF:
            require(fields, "check_id")
            check = existing(Check, fields["check_id"], user, "check_id")
            own(user, check.created_by)
            evidence.check = check
        elif user.role == "unit":
            if fields.get("check_id") is not None:
                raise Rejected(403, _("A unit's evidence belongs to a rectification, "
                                      "not to a check."))
            evidence.rectification = _rectification_listing(user, entity_id)
        else:
            raise Rejected(403, _("Your role may not add evidence."))
        self.update(user, evidence, fields)
        _meet_upload(evidence)
        return evidence

    def may_change(self, user, evidence):
        own(user, evidence.created_by)

    def update(self, user, evidence, fields):
        for name in ("kind", "sha256", "size"):
            if fields.get(name) is not None and fields[name] != getattr(evidence, name):
                raise Rejected(409, _("The file of a piece of evidence cannot change; "
                                      "record new evidence instead."))
        if fields.get("finding_id") is not None:
            finding = existing(Finding, fields["finding_id"], user, "finding_id")
            if finding.check is not evidence.check:
                raise Rejected(422, _("The finding belongs to another check."))
            evidence.finding = finding
        for name in ("filename", "captured_at"):
            if fields.get(name) is not None:
                setattr(evidence, name, fields[name])
        if fields.get("location") is not None:
            evidence.location = fields["location"].model_dump()

    def may_delete(self, user, evidence):
        self.may_change(user, evidence)
        if evidence.review_state != "pending":
            raise Rejected(409, _("Reviewed evidence cannot be deleted."))


def _rectification_listing(user, evidence_id) -> Rectification | None:
    """The user's rectification that lists this evidence, if it arrived first (before,
    or earlier in this push)."""
    stored = db.session.scalars(db.select(Rectification).where(
        Rectification.created_by == user.id, Rectification.deleted_at.is_(None)))
    for rect in [*in_this_push(Rectification), *stored]:
        if rect.created_by == user.id and rect.deleted_at is None \
                and str(evidence_id) in (rect.evidence_ids or []):
            return rect
    return None


def _meet_upload(evidence: Evidence):
    """The file may have arrived before the record: they meet by evidence id."""
    from ...uploads.services import attach, completed_uploads

    known = db.session.info.get("push_uploads", {})
    if evidence.id not in known:  # outside a batch's prefetch
        known = completed_uploads([evidence.id])
    upload = known[evidence.id]
    if upload is None:
        return
    if upload.sha256 != evidence.sha256:
        raise Rejected(409, _("The file uploaded for this evidence has another sha256."))
    attach(evidence)
