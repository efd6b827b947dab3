"""Changes to the registry. Flush, never commit: the caller commits once."""

from flask_babel import gettext as _

from ..audit.chain import record
from ..auth.services import password_hash
from ..errors import Problem
from ..extensions import db
from ..models import Category, Unit, User
from ..roles import ROLES
from .categories import DEFAULTS


def seed_categories() -> int:
    """Add the default categories that are missing; edited ones are left alone."""
    existing = set(db.session.scalars(db.select(Category.code)))
    added = 0
    for position, (code, zh, en, severity, days) in enumerate(DEFAULTS):
        if code not in existing:
            db.session.add(Category(code=code, name_zh=zh, name_en=en, default_severity=severity,
                                    default_deadline_days=days, position=position))
            added += 1
    db.session.flush()
    return added


def unit_by_code(code: str) -> Unit | None:
    return db.session.scalar(db.select(Unit).where(Unit.code == code))


def create_user(username: str, role: str, password: str, *, name: str | None = None,
                unit_code: str | None = None, by=None) -> User:
    """Create a user; 422 for an unknown role or unit, 409 for a taken username."""
    username = username.strip()
    if not username:
        raise Problem(422, _("Invalid user"), _("The username must not be empty."))
    if role not in ROLES:
        raise Problem(422, _("Invalid user"), _("Unknown role %(role)s; roles are %(roles)s.",
                                                role=role, roles=", ".join(ROLES)))
    unit = None
    if unit_code:
        unit = unit_by_code(unit_code)
        if unit is None:
            raise Problem(422, _("Invalid user"), _("No unit has the code %(code)s.",
                                                    code=unit_code))
    if role == "unit" and unit is None:
        raise Problem(422, _("Invalid user"), _("A unit contact needs --unit."))
    if db.session.scalar(db.select(User.id).where(User.username == username)):
        raise Problem(409, _("Username taken"), _("The username %(u)s is already taken.",
                                                  u=username))
    user = User(username=username, name=name or username, role=role,
                unit_id=unit.id if unit else None, password_hash=password_hash(password))
    db.session.add(user)
    db.session.flush()
    record("user_created", actor=by, subject=user,
           detail={"username": user.username, "role": role, "unit": unit_code})
    return user
