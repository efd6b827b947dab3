"""Resumable uploads (tus) in progress, and the lease that lets one request write at a time."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import JSON, Model, UTCDateTime, enum, utcnow

UPLOAD_STATES = ("receiving", "complete", "failed")


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
    # A lease, not a database lock: a PATCH may stream for minutes, and holding a
    # transaction (or SQLite's only write lock) that long would stall everyone else.
    lease: Mapped[str | None] = mapped_column(sa.String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint("\"offset\" >= 0 AND \"offset\" <= length", name="offset_in_range"),
        sa.Index("ix_uploads_evidence_id", "evidence_id"),
        sa.Index("ix_uploads_state_expires", "state", "expires_at"),
    )
