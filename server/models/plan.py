"""Plans of checks: which sites, by whom, in which window. Secret."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sync.vocabulary import MODES

from .base import Deletable, Model, Record, UTCDateTime, enum

plan_sites = sa.Table(
    "plan_sites",
    Model.metadata,
    sa.Column("plan_id", sa.ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("site_id", sa.ForeignKey("sites.id"), primary_key=True),
)

plan_assignees = sa.Table(
    "plan_assignees",
    Model.metadata,
    sa.Column("plan_id", sa.ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), primary_key=True),
)


class Plan(Record, Deletable, Model):
    """Which sites to check in which window, and by whom. Never reaches a unit."""

    __tablename__ = "plans"

    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    mode: Mapped[str] = mapped_column(enum(*MODES, name="mode"), nullable=False)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))

    sites = relationship("Site", secondary=plan_sites, order_by="Site.code")
    assignees = relationship("User", secondary=plan_assignees, order_by="User.username")

    __table_args__ = (sa.CheckConstraint("window_end > window_start", name="window_order"),)
