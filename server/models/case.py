"""Cases opened from confirmed findings, and the units' rectification reports."""

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sync.vocabulary import CASE_STATUSES

from .base import JSON, Deletable, Model, Record, UTCDateTime, enum


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

    finding = relationship("Finding")
    unit = relationship("Unit")

    __table_args__ = (sa.Index("ix_cases_unit_status", "unit_id", "status"),)


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
