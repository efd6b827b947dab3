"""What phones capture: checks, the findings noted in them and their evidence."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import JSON, Deletable, Model, Record, UTCDateTime, enum, utcnow
from .plan import MODES
from .registry import SEVERITIES

EVIDENCE_KINDS = ("photo", "audio", "video")
EVIDENCE_STATES = ("awaiting_upload", "processing", "ready", "failed")
REVIEW_STATES = ("pending", "accepted", "needs_info", "rejected")
FINDING_STATES = ("pending", "confirmed", "dismissed")
GEOFENCE = ("inside", "outside", "unknown")


class Check(Record, Deletable, Model):
    """One visit to a site, open (明察) or covert (暗访)."""

    __tablename__ = "checks"

    plan_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("plans.id"))
    site_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("sites.id"), nullable=False)
    mode: Mapped[str] = mapped_column(enum(*MODES, name="mode"), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    location: Mapped[dict | None] = mapped_column(JSON)
    created_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    site = relationship("Site")
    plan = relationship("Plan")
    author = relationship("User")

    __table_args__ = (sa.Index("ix_checks_created_by_started", "created_by", "started_at"),)


class Finding(Record, Deletable, Model):
    """A problem noted during a check. Units see it only once published."""

    __tablename__ = "findings"

    check_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("checks.id"), nullable=False)
    category_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("categories.id"), nullable=False)
    severity: Mapped[str] = mapped_column(enum(*SEVERITIES, name="severity"), nullable=False)
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("units.id"), nullable=False)
    evidence_ids: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    state: Mapped[str] = mapped_column(
        enum(*FINDING_STATES, name="finding_state"), nullable=False, default="pending"
    )
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), nullable=False)

    check = relationship("Check")
    category = relationship("Category")
    unit = relationship("Unit")

    __table_args__ = (sa.Index("ix_findings_check_id", "check_id"),
                      sa.Index("ix_findings_unit_published", "unit_id", "published_at"))


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
    media: Mapped[dict | None] = mapped_column(JSON)
    geofence: Mapped[str | None] = mapped_column(enum(*GEOFENCE, name="geofence"))
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
    )
