"""The bureau's registry: units, the sites they answer for, and finding categories."""

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sync.vocabulary import SEVERITIES, SITE_KINDS

from .base import Deletable, Model, Record, enum


class Unit(Record, Deletable, Model):
    """A department (科室) or body answerable for sites and findings."""

    __tablename__ = "units"

    code: Mapped[str] = mapped_column(sa.String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    leader_name: Mapped[str | None] = mapped_column(sa.String(100))


class Site(Record, Deletable, Model):
    """An office or works that can be checked, with its geofence."""

    __tablename__ = "sites"

    code: Mapped[str] = mapped_column(sa.String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    kind: Mapped[str] = mapped_column(enum(*SITE_KINDS, name="site_kind"), nullable=False)
    unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("units.id"), nullable=False)
    lat: Mapped[float | None] = mapped_column(sa.Float)
    lon: Mapped[float | None] = mapped_column(sa.Float)
    radius_m: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=100)
    address: Mapped[str | None] = mapped_column(sa.String(300))

    unit = relationship("Unit")

    __table_args__ = (
        sa.CheckConstraint("lat IS NULL OR (lat BETWEEN -90 AND 90)", name="lat_range"),
        sa.CheckConstraint("lon IS NULL OR (lon BETWEEN -180 AND 180)", name="lon_range"),
        sa.CheckConstraint("radius_m > 0", name="radius_positive"),
    )


class Category(Record, Deletable, Model):
    """A kind of problem, with the severity and deadline it usually gets."""

    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(sa.String(32), unique=True, nullable=False)
    name_zh: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    name_en: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    default_severity: Mapped[str] = mapped_column(
        enum(*SEVERITIES, name="severity"), nullable=False, default="general"
    )
    default_deadline_days: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=7)
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
