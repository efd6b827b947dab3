"""The administrator's changes to people, over the rules auth and the registry keep: the
form checked before anything changes, role and unit changes recorded, and no
administrator locking themselves out. Flush, never commit: the view commits once."""

import re
import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from ..audit.chain import record
from ..auth import services as auth
from ..errors import Problem
from ..extensions import db
from ..models import Device, Unit, User
from ..registry.importer import GENERATED_CHARS, GENERATED_LENGTH
from ..registry.services import create_user
from ..roles import ROLES
from ..visibility import as_uuid

USERNAME_CHARS, NAME_CHARS, PHONE_CHARS = 64, 100, 32  # the columns' lengths
# A passphrase fits; a megabyte pasted by mistake is refused, not hashed.
PASSWORD_CHARS = 256
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # PostgreSQL stores no NUL; no name needs a tab
_SPACE = re.compile(r"\s")
_PHONE = re.compile(r"[0-9+\-() ]*")


@dataclass(frozen=True)
class Person:
    """What the desk's form says of a person; ``unit`` is a unit's id as the form sent
    it, empty for none."""

    name: str
    role: str
    unit: str = ""
    phone: str = ""


def _invalid(detail: str) -> Problem:
    return Problem(422, _("Invalid user"), detail)


def _refused(detail: str) -> Problem:
    return Problem(409, _("Refused"), detail)


def _username(text: str) -> str:
    username = text.strip()
    if not username:
        raise _invalid(_("The username must not be empty."))
    if len(username) > USERNAME_CHARS:
        raise _invalid(_("The username may have at most %(n)s characters.", n=USERNAME_CHARS))
    if _SPACE.search(username) or _CONTROL.search(username):
        raise _invalid(_("The username may not contain spaces or control characters."))
    return username


def _name(text: str) -> str:
    name = text.strip()
    if not name:
        raise _invalid(_("Give the person's name."))
    if len(name) > NAME_CHARS:
        raise _invalid(_("The name may have at most %(n)s characters.", n=NAME_CHARS))
    if _CONTROL.search(name):
        raise _invalid(_("The name may not contain control characters."))
    return name


def _phone(text: str) -> str | None:
    phone = text.strip()
    if len(phone) > PHONE_CHARS or not _PHONE.fullmatch(phone):
        raise _invalid(_("The phone number may have at most %(n)s characters: digits, spaces "
                         "and + - ( ).", n=PHONE_CHARS))
    return phone or None


def _unit(text: str, kept=None) -> Unit | None:
    """The unit the form chose: a live one, or the one the person already has."""
    if not text:
        return None
    ident = as_uuid(text)
    unit = db.session.get(Unit, ident) if ident else None
    if unit is None or (unit.deleted_at is not None and unit.id != kept):
        raise _invalid(_("Choose a unit from the list."))
    return unit


def _checked(person: Person, kept_unit=None) -> tuple[str, str | None, Unit | None]:
    """The name, phone and unit of a form that holds together; 422 otherwise."""
    name, phone = _name(person.name), _phone(person.phone)
    if person.role not in ROLES:
        raise _invalid(_("Choose a role from the list."))
    unit = _unit(person.unit, kept_unit)
    if person.role == "unit" and unit is None:
        raise _invalid(_("A unit contact needs a unit."))
    return name, phone, unit


def _password_fits(password: str):
    if len(password) > PASSWORD_CHARS:
        raise Problem(422, _("Invalid password"), _(
            "The password may have at most %(n)s characters.", n=PASSWORD_CHARS))


def create(username: str, person: Person, password: str, *, by: User) -> User:
    """A new person who signs in with ``password``; 422 for a form that does not hold
    together, 409 for a taken username."""
    username = _username(username)
    name, phone, unit = _checked(person)
    _password_fits(password)
    try:
        user = create_user(username, person.role, password, name=name,
                           unit_code=unit.code if unit else None, by=by)
    except IntegrityError:  # taken by another request since create_user looked
        raise Problem(409, _("Username taken"), _("The username %(u)s is already taken.",
                                                  u=username)) from None
    user.phone = phone
    return user


def change(user: User, person: Person, *, by: User) -> dict:
    """Apply the form; return what changed as ``{field: [before, after]}``. A new role or
    unit signs the person's phones out: what they pulled was chosen for the old one."""
    name, phone, unit = _checked(person, kept_unit=user.unit_id)
    if user.id == by.id and user.role == "admin" and person.role != "admin":
        raise _refused(_("You cannot remove your own administrator role: another "
                         "administrator must, so that one is always left."))
    before = {"name": user.name, "phone": user.phone, "role": user.role,
              "unit": user.unit.code if user.unit else None}
    after = {"name": name, "phone": phone, "role": person.role,
             "unit": unit.code if unit else None}
    changes = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
    if not changes:
        return changes
    user.name, user.phone, user.role = name, phone, person.role
    user.unit_id = unit.id if unit else None
    user.unit = unit
    record("user_changed", actor=by, subject=user, detail=changes)
    if ("role" in changes or "unit" in changes) and _has_live_device(user):
        auth.revoke_devices(user, by=by)
    db.session.flush()
    return changes


def _has_live_device(user: User) -> bool:
    return db.session.scalar(db.select(Device.id).where(
        Device.user_id == user.id, Device.revoked_at.is_(None)).limit(1)) is not None


def set_password(user: User, password: str | None, *, by: User) -> str | None:
    """The password typed, or one made up when ``password`` is None: that one is returned,
    to be shown once and never stored. Every web session of the person ends."""
    made = None
    if password is None:
        made = password = "".join(secrets.choice(GENERATED_CHARS)
                                  for _position in range(GENERATED_LENGTH))
    _password_fits(password)
    auth.set_password(user, password, by=by)
    return made


def disable(user: User, *, by: User) -> int:
    """Sign the person out everywhere and revoke every phone; return the phones revoked."""
    if user.id == by.id:
        raise _refused(_("You cannot disable your own account: another administrator must."))
    if not user.active:
        raise _refused(_("%(name)s is already disabled.", name=user.name))
    return auth.disable(user, by=by)


def enable(user: User, *, by: User):
    """Let the person sign in again; their revoked phones stay revoked."""
    if user.active:
        raise _refused(_("%(name)s is already enabled.", name=user.name))
    auth.enable(user, by=by)


def revoke_device(device: Device, *, by: User):
    """Sign one phone out; the person's others keep working."""
    if device.revoked_at is not None:
        raise _refused(_("That phone was already signed out."))
    auth.revoke_device(device, by=by)


def revoke_devices(user: User, *, by: User) -> int:
    """Sign every phone of the person out (their desk sessions stay); return how many."""
    if not _has_live_device(user):
        raise _refused(_("%(name)s has no phone signed in.", name=user.name))
    return auth.revoke_devices(user, by=by)
