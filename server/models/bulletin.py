"""Monthly bulletins (月末通报) and the audit trail."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import JSON, Model, Record, UTCDateTime, enum, utcnow

BULLETIN_STATUSES = ("draft", "published")


class Bulletin(Record, Model):
    """One month's report. Frozen once published: ``content_sha256`` proves it."""

    __tablename__ = "bulletins"

    month: Mapped[str] = mapped_column(sa.String(7), unique=True, nullable=False)  # YYYY-MM
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    status: Mapped[str] = mapped_column(
        enum(*BULLETIN_STATUSES, name="bulletin_status"), nullable=False, default="draft"
    )
    content: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    content_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))


class AuditEvent(Model):
    """Who did what to which record. ``hash`` chains each event to the one before."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    subject_type: Mapped[str | None] = mapped_column(sa.String(32))
    subject_id: Mapped[str | None] = mapped_column(sa.String(64))
    detail: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    prev_hash: Mapped[str | None] = mapped_column(sa.String(64))
    hash: Mapped[str | None] = mapped_column(sa.String(64))

    __table_args__ = (sa.Index("ix_audit_subject", "subject_type", "subject_id"),)
