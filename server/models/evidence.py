"""Evidence records, and the resumable uploads (tus) that bring their files."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sync.vocabulary import EVIDENCE_KINDS, EVIDENCE_STATES, GEOFENCE_VERDICTS, REVIEW_STATES

from .base import JSON, Deletable, Model, Record, UTCDateTime, enum, utcnow

UPLOAD_STATES = ("receiving", "complete", "failed")



class Evidence(Record, Deletable, Model):
    """The record of a photo, audio or video; the bytes live in media storage."""

    __tablename__ = "evidence"

    # Evidence of a check, or of a unit's rectification (which has no check).
    check_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("checks.id"))
    finding_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("findings.id"))
    rectification_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("rectifications.id"))
    kind: Mapped[str] = mapped_column(enum(*EVIDENCE_KINDS, name="evidence_kind"), nullable=False)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    size: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    filename: Mapped[str | None] = mapped_column(sa.String(255))
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    location: Mapped[dict | None] = mapped_column(JSON)
    created_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    # Set by the server as the upload and the media jobs go on.
    state: Mapped[str] = mapped_column(
        enum(*EVIDENCE_STATES, name="evidence_state"), nullable=False, default="awaiting_upload"
    )
    failure: Mapped[str | None] = mapped_column(sa.Text)
    review_state: Mapped[str] = mapped_column(
        enum(*REVIEW_STATES, name="review_state"), nullable=False, default="pending"
    )
    review_note: Mapped[str | None] = mapped_column(sa.Text)
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    media: Mapped[dict | None] = mapped_column(JSON)
    geofence: Mapped[str | None] = mapped_column(enum(*GEOFENCE_VERDICTS, name="geofence"))
    distance_m: Mapped[float | None] = mapped_column(sa.Float)
    derivatives: Mapped[dict | None] = mapped_column(JSON)
    storage_key: Mapped[str | None] = mapped_column(sa.String(255))
    uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What processing found that a reviewer should weigh: near duplicates, a capture
    # time outside the check (a gallery import?), the phone's clock being off.
    flags: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    phash: Mapped[str | None] = mapped_column(sa.String(16))
    clock_offset_s: Mapped[float | None] = mapped_column(sa.Float)

    check = relationship("Check")
    finding = relationship("Finding")
    rectification = relationship("Rectification")

    __table_args__ = (
        sa.CheckConstraint("size >= 0", name="size_not_negative"),
        sa.Index("ix_evidence_check_id", "check_id"),
        sa.Index("ix_evidence_state", "state"),
        sa.Index("ix_evidence_review_queue", "review_state", "created_at"),
    )


class Upload(Model):
    """One tus upload: the bytes so far live in the staging folder under ``id``."""

    __tablename__ = "uploads"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    evidence_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False)
    check_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    length: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    offset: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    metadata_: Mapped[dict] = mapped_column("metadata", JSON, nullable=False, default=dict)
    state: Mapped[str] = mapped_column(enum(*UPLOAD_STATES, name="upload_state"),
                                       nullable=False, default="receiving")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where the verified bytes are stored: under the uploader's own key, until (and after)
    # they meet the record of the evidence, if its creator sent them.
    storage_key: Mapped[str | None] = mapped_column(sa.String(255))
    # A lease, not a database lock: a PATCH may stream for minutes, and holding a
    # transaction (or SQLite's only write lock) that long would stall everyone else.
    lease: Mapped[str | None] = mapped_column(sa.String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_holder: Mapped[str | None] = mapped_column(sa.String(128))  # "host pid"

    __table_args__ = (
        sa.CheckConstraint("\"offset\" >= 0 AND \"offset\" <= length", name="offset_in_range"),
        sa.Index("ix_uploads_evidence_id", "evidence_id"),
        sa.Index("ix_uploads_state_expires", "state", "expires_at"),
        sa.Index("ix_uploads_user_state", "user_id", "state"),
    )
