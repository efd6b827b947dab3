"""The audit trail: who did what to which record, each event chained to the one before."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import JSON, Model, UTCDateTime, utcnow


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

    __table_args__ = (sa.Index("ix_audit_subject", "subject_type", "subject_id"),
                      sa.Index("ix_audit_actor", "actor_id"))


class AuditHead(Model):
    """The chain's newest event, in one row: its lock orders appends, and it tells when
    the newest events were deleted."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    last_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, default="")
