"""Monthly bulletins (月末通报)."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import JSON, Model, Record, UTCDateTime, enum

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
