"""Whose bytes are whose.

An upload names an evidence id whose record may not have arrived yet, and ids leak (a
finding lists its evidence before the evidence's record reaches others), so nothing
here trusts the id alone: each uploader's bytes are stored under their own key, only
the upload of the record's creator meets the record, and what waits for a record is
limited per uploader.
"""

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from ..errors import Problem
from ..extensions import db
from ..models import Check, Evidence, Rectification, Upload
from ..roles import FIELD_STAFF
from ..sql import among
from ..visibility import can_see

WAITING = ("receiving", "complete")


def authorise(user, meta: dict, length: int) -> Evidence | None:
    """The evidence record the upload is for (None: not here yet), when ``user`` may
    send its file; a problem otherwise."""
    evidence = db.session.get(Evidence, meta["evidence_id"])
    if evidence is not None:
        if evidence.created_by != user.id or evidence.deleted_at is not None:
            raise Problem(403, _("Not allowed"), _("This evidence is not yours to upload."))
        if evidence.sha256 != meta["sha256"]:
            raise Problem(409, _("Different file"), _("The evidence record names another file "
                                                     "(its sha256 differs)."))
        if user.role == "unit":
            _own_rectification(user, evidence.rectification
                               or _named(Rectification, meta.get("rectification_id")))
        return evidence
    if user.role in FIELD_STAFF:
        check = _named(Check, meta.get("check_id"))
        if check is None or check.created_by != user.id or not can_see(user, check):
            raise Problem(403, _("Not allowed"), _("Upload evidence only for your own checks; "
                                                 "send check_id in Upload-Metadata."))
    elif user.role == "unit":
        _own_rectification(user, _named(Rectification, meta.get("rectification_id")))
    else:
        raise Problem(403, _("Not allowed"), _("Your role may not upload evidence."))
    _within_allowance(user, length)
    return None


def _named(model, record_id):
    return db.session.get(model, record_id) if record_id else None


def _own_rectification(user, rect: Rectification | None):
    """A unit contact uploads only for a rectification of a case of their own unit."""
    if rect is None or rect.deleted_at is not None or rect.case.unit_id != user.unit_id \
            or not can_see(user, rect):
        raise Problem(403, _("Not allowed"), _("Upload evidence only for a rectification of "
                      "your unit's case; send rectification_id in Upload-Metadata."))


def _within_allowance(user, length: int):
    """Refuse a new upload once the user's uploads waiting for a record of theirs reach
    UPLOADS_WITHOUT_RECORD (429) or UPLOAD_BYTES_WITHOUT_RECORD (413)."""
    claimed = sa.select(Evidence.id).where(Evidence.id == Upload.evidence_id,
                                           Evidence.created_by == user.id)
    count, size = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Upload.length), 0))
        .where(Upload.user_id == user.id, Upload.state.in_(WAITING), ~claimed.exists())).one()
    config = current_app.config
    if count + 1 > config["UPLOADS_WITHOUT_RECORD"]:
        raise Problem(429, _("Too many uploads waiting"), _(
            "%(n)s of your uploads wait for their evidence records; sync your records, then "
            "upload again.", n=count))
    if size + length > config["UPLOAD_BYTES_WITHOUT_RECORD"]:
        raise Problem(413, _("Too many bytes waiting"), _(
            "Your uploads waiting for their evidence records already hold %(n)s bytes; sync "
            "your records, then upload again.", n=size))


def claims(upload: Upload, evidence: Evidence | None) -> bool:
    """Whether the record is the upload's to meet: its creator sent these very bytes."""
    return evidence is not None and evidence.deleted_at is None \
        and evidence.created_by == upload.user_id and evidence.sha256 == upload.sha256


def completed_uploads(user_id, evidence_ids) -> dict:
    """evidence id -> the user's completed upload or None, for each of ``evidence_ids``."""
    found = {upload.evidence_id: upload for upload in db.session.scalars(sa.select(Upload).where(
        among(Upload.evidence_id, evidence_ids), Upload.user_id == user_id,
        Upload.state == "complete"))}
    return {evidence_id: found.get(evidence_id) for evidence_id in evidence_ids}
