"""What phones capture: checks and the findings noted in them."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sync.vocabulary import FINDING_STATES, MODES, SEVERITIES

from .base import JSON, Deletable, Model, Record, UTCDateTime, enum, utcnow


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
    decision_note: Mapped[str | None] = mapped_column(sa.Text)  # why it was dismissed
    decided_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), nullable=False)

    check = relationship("Check")
    category = relationship("Category")
    unit = relationship("Unit")

    __table_args__ = (sa.Index("ix_findings_check_id", "check_id"),
                      sa.Index("ix_findings_unit_published", "unit_id", "published_at"))
