"""Monthly bulletins (月末通报)."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import JSON, Model, Record, UTCDateTime, enum, utcnow

BULLETIN_STATUSES = ("draft", "published")


class Bulletin(Record, Model):
    """One month's report. Frozen once published: ``content_sha256`` proves it. A
    correction is a new edition of the month, with its own number, naming the one it
    corrects."""

    __tablename__ = "bulletins"
    __table_args__ = (sa.UniqueConstraint("month", "edition", name="uq_bulletins_month_edition"),)

    month: Mapped[str] = mapped_column(sa.String(7), nullable=False)  # YYYY-MM
    edition: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1,
                                         server_default="1")
    corrects_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("bulletins.id"))
    # The files' rendering, outside the frozen content: {"state": queued|rendering|done|
    # failed, "progress": 0-100, "files": {"pdf": storage key, ...}, "of": content_sha256 or
    # version rendered, "error"}.
    renders: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    status: Mapped[str] = mapped_column(
        enum(*BULLETIN_STATUSES, name="bulletin_status"), nullable=False, default="draft"
    )
    content: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    content_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))


class DeductionTable(Model):
    """Points a unit loses per confirmed finding (by category and severity) and per
    overdue case. Never edited: a change is a new table in force from its month on, so a
    month is always scored with the table in force then."""

    __tablename__ = "deduction_tables"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    effective_from: Mapped[str] = mapped_column(sa.String(7), unique=True, nullable=False)
    # {"general": points, "major": points, "overdue": points,
    #  "categories": {code: {"general": points, "major": points}}}
    rules: Mapped[dict] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
