"""People who sign in, the phones they use, and failed sign-in counters."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sync.vocabulary import ROLES

from .base import Model, Record, UTCDateTime, enum, utcnow


class User(Record, UserMixin, Model):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    role: Mapped[str] = mapped_column(enum(*ROLES, name="role"), nullable=False)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("units.id"))
    password_hash: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    # Part of every web session's user id: raising it ends all of the user's sessions
    # (sign-out, a new password, disabling), though their cookies live on.
    session_epoch: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)

    unit = relationship("Unit")

    __table_args__ = (
        sa.CheckConstraint("role <> 'unit' OR unit_id IS NOT NULL", name="unit_user_has_unit"),
    )

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """What a web session holds: the id and the session epoch."""
        return f"{self.id}.{self.session_epoch}"


class Device(Model):
    """A phone signed in as a user. Only a hash of its token is kept."""

    __tablename__ = "devices"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")


class LoginFailure(Model):
    """Consecutive failed sign-ins for one key (a username or an address)."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
