"""The change feed phones pull, and the mutations they pushed (remembered for retries)."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import JSON, Model, UTCDateTime, utcnow

SEQ = sa.BigInteger().with_variant(sa.Integer, "sqlite")  # SQLite autoincrements INTEGER keys


class FeedRow(Model):
    """A row of the change feed: the latest state of one record for its audience, in
    commit order (``seq``).

    Older changes of a record are removed when a newer one is written: a phone that
    pulls late gets the record once, as it is now.
    """

    __tablename__ = "changes"

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    entity_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False)
    op: Mapped[str] = mapped_column(sa.String(8), nullable=False)  # upsert | delete
    version: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    data: Mapped[dict | None] = mapped_column(JSON)
    # Who may pull it: keys such as role:inspector, sup:<id>, unit:<id>, each with a
    # space either side, so a pull finds a whole key by its position on any database.
    audience: Mapped[str] = mapped_column(sa.Text, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    # AUTOINCREMENT: SQLite must never reuse the seq of a removed row, or a phone that
    # pulled past it would skip the change that reuses it.
    __table_args__ = (sa.Index("ix_changes_entity", "type", "entity_id"),
                      {"sqlite_autoincrement": True})


class AppliedMutation(Model):
    """A pushed mutation that took effect, stored in the same transaction as its effect."""

    __tablename__ = "applied_mutations"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    device_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("devices.id"), nullable=False)
    type: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    entity_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False)
    digest: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    version: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
