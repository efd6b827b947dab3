"""Plans of checks: which sites, by whom, in which window. Secret. And the fair random
draws (双随机) that make plans: what went in and what came out."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sync.vocabulary import MODES

from .base import JSON, Deletable, Model, Record, UTCDateTime, enum, utcnow

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
    # The weekly plans (周规划) of one recurring plan share a series id.
    series_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    draw_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("draws.id"), index=True)

    sites = relationship("Site", secondary=plan_sites, order_by="Site.code")
    assignees = relationship("User", secondary=plan_assignees, order_by="User.username")

    __table_args__ = (sa.CheckConstraint("window_end > window_start", name="window_order"),)


class Draw(Model):
    """A fair random draw of sites and supervisors for a month or a week. ``inputs`` are
    the pools, rules and history it was drawn from, ``seed`` its randomness; the same
    inputs and seed always give ``result`` (server/plans/draw.py)."""

    __tablename__ = "draws"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    period: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    mode: Mapped[str] = mapped_column(enum(*MODES, name="mode"), nullable=False)
    seed: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    inputs: Mapped[dict] = mapped_column(JSON, nullable=False)
    result: Mapped[list] = mapped_column(JSON, nullable=False)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
