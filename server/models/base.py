"""Column types and mixins shared by the models."""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from ..extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """Timezone-aware datetimes stored in UTC; SQLite gives them back aware too."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: times must carry an offset")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def enum(*values: str, name: str) -> sa.Enum:
    """A string column limited to ``values`` by a CHECK constraint on every database."""
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


class Record:
    """A record with a UUID id and a server version, as the phone API describes."""

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    version: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )

    @declared_attr.directive
    def __mapper_args__(cls):
        # SQLAlchemy bumps the version on every UPDATE and refuses stale writes.
        return {"version_id_col": cls.__table__.c.version}


class Deletable:
    """Records phones may delete keep a tombstone so the deletion can sync."""

    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


Model = db.Model
