"""What the administrator reads of people: the list with each person's phones counted,
and one person's phones."""

import re
from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..models import Device, Unit, User
from ..roles import ROLES

PAGE = 100
DEVICES_SHOWN = 100  # every phone sign-in is a device: a year of them is a long list
TEXT_CHARS = 64
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class PeopleFilter:
    """Which people the list shows."""

    role: str | None = None
    text: str | None = None
    after: str | None = None  # the last username of the page before

    @classmethod
    def of(cls, args) -> "PeopleFilter":
        """The filter a query string asks for; what it cannot mean is left out."""
        role = args.get("role")

        def clean(name):
            return _CONTROL.sub("", args.get(name) or "").strip()[:TEXT_CHARS] or None

        return cls(role if role in ROLES else None, clean("q"), clean("after"))

    def kept(self) -> dict:
        """The filter as query arguments, for the next page's link."""
        return {k: v for k, v in (("role", self.role), ("q", self.text)) if v}


def page_of_people(wanted: PeopleFilter) -> tuple[list, bool]:
    """Rows of (user, unit name, live phones, last seen), by username; and whether
    more follow."""
    phones = (sa.select(Device.user_id,
                        sa.func.sum(sa.case((Device.revoked_at.is_(None), 1), else_=0))
                        .label("live"),
                        sa.func.max(Device.last_seen_at).label("last_seen"))
              .group_by(Device.user_id).subquery())
    query = (sa.select(User, Unit.name, sa.func.coalesce(phones.c.live, 0), phones.c.last_seen)
             .outerjoin(Unit, User.unit_id == Unit.id)
             .outerjoin(phones, phones.c.user_id == User.id)
             .order_by(User.username).limit(PAGE + 1))
    if wanted.role:
        query = query.where(User.role == wanted.role)
    if wanted.text:
        query = query.where(sa.or_(User.username.icontains(wanted.text, autoescape=True),
                                   User.name.icontains(wanted.text, autoescape=True)))
    if wanted.after:
        query = query.where(User.username > wanted.after)
    rows = db.session.execute(query).all()
    return rows[:PAGE], len(rows) > PAGE


def devices_of(user: User) -> list[Device]:
    """The person's phones: those signed in first, then the newest."""
    return db.session.scalars(
        sa.select(Device).where(Device.user_id == user.id)
        .order_by(Device.revoked_at.is_not(None), Device.created_at.desc())
        .limit(DEVICES_SHOWN)).all()


def live_units() -> list[Unit]:
    """The units a person may be given, by code."""
    return db.session.scalars(sa.select(Unit).where(Unit.deleted_at.is_(None))
                              .order_by(Unit.code)).all()
