"""Cases opened from confirmed findings, and the units' rectification reports."""

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sync.vocabulary import CASE_STATUSES

from .base import JSON, Deletable, Model, Record, UTCDateTime, enum, utcnow


class Case(Record, Deletable, Model):
    """A confirmed finding being rectified by a unit under a leader, by a deadline."""

    __tablename__ = "cases"

    finding_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("findings.id"), unique=True, nullable=False
    )
    unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("units.id"), nullable=False)
    leader_name: Mapped[str | None] = mapped_column(sa.String(100))
    deadline: Mapped[date] = mapped_column(sa.Date, nullable=False)
    status: Mapped[str] = mapped_column(
        enum(*CASE_STATUSES, name="case_status"), nullable=False, default="open"
    )
    overdue: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_on: Mapped[date | None] = mapped_column(sa.Date)  # the last day it was

    finding = relationship("Finding")
    unit = relationship("Unit")

    __table_args__ = (sa.Index("ix_cases_unit_status", "unit_id", "status"),
                      sa.Index("ix_cases_deadline", "deadline"))


class Notice(Model):
    """What a unit's contacts or the supervision group are told: a case was notified to
    them, or went overdue. Shown on their start page until read."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    kind: Mapped[str] = mapped_column(sa.String(32), nullable=False)  # notified, overdue
    case_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("cases.id"), nullable=False)
    # Who is told: a unit's contacts, or everyone of a role.
    unit_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("units.id"))
    role: Mapped[str | None] = mapped_column(sa.String(16))

    case = relationship("Case")

    __table_args__ = (sa.Index("ix_notices_unit", "unit_id", "at"),
                      sa.Index("ix_notices_role", "role", "at"))


class Rectification(Record, Deletable, Model):
    """A unit's report of what it fixed, with its own evidence."""

    __tablename__ = "rectifications"

    case_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("cases.id"), nullable=False)
    report: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    evidence_ids: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), nullable=False)

    case = relationship("Case")

    __table_args__ = (sa.Index("ix_rectifications_case_id", "case_id"),)
