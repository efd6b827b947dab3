"""Changes to the registry. Flush, never commit: the caller commits once."""

from flask_babel import gettext as _
from flask_babel import ngettext

from ..audit.chain import record
from ..auth.services import password_hash
from ..errors import Problem
from ..extensions import db
from ..models import Case, Category, DeductionTable, Finding, Site, Unit, User, utcnow
from ..roles import ROLES
from .categories import DEFAULTS
from .importer import Outcome, import_tables
from .reader import Table


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


# --- The desk: units, sites and categories ----------------------------------------------

def _plain(value):
    """A value as the audit trail's JSON holds it."""
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)


def _taken(code: str) -> Problem:
    message = _("The code %(code)s is already taken.", code=code)
    return Problem(409, _("Code taken"), message, errors=[{"field": "code", "message": message}])


def create(model, values: dict, actor):
    """A new unit, site or category. One deleted earlier under the same code comes back
    with these values (as an import listing it again does); a live one is a 409."""
    kind = model.__name__.lower()
    found = db.session.scalar(db.select(model).where(model.code == values["code"]))
    if found is not None and found.deleted_at is None:
        raise _taken(values["code"])
    if found is None:
        found, action = model(**values), f"{kind}_created"
        db.session.add(found)
    else:
        for name, value in (values | {"deleted_at": None}).items():
            setattr(found, name, value)
        action = f"{kind}_restored"
    db.session.flush()
    record(action, actor=actor, subject=found,
           detail={name: _plain(value) for name, value in values.items()})
    return found


def change(found, values: dict, version: str, actor) -> dict:
    """Set the values that differ; {field: [old, new]} of them. 409 when someone saved the
    record after the form was shown, or the new code is another's."""
    kind = type(found).__name__.lower()
    if version != str(found.version):
        raise changed_meanwhile()
    changes = {name: [_plain(getattr(found, name)), _plain(value)]
               for name, value in values.items() if getattr(found, name) != value}
    if "code" in changes:
        model = type(found)
        if db.session.scalar(db.select(model.id).where(model.code == values["code"])):
            raise _taken(values["code"])
        if isinstance(found, Category) and _scored_by_code(found.code):
            message = _("A deduction table gives points for the code %(code)s: keep it, or "
                        "the category's problems would be scored by the general rule.",
                        code=found.code)
            raise Problem(409, _("Code in use"), message,
                          errors=[{"field": "code", "message": message}])
    if changes:
        for name in changes:
            setattr(found, name, values[name])
        db.session.flush()
        record(f"{kind}_changed", actor=actor, subject=found, detail={"changed": changes})
    return changes


def changed_meanwhile() -> Problem:
    """The refusal of a form shown before the record's last save."""
    return Problem(409, _("Changed meanwhile"), _(
        "Someone saved this record after you opened it. Here it is as it is now: make your "
        "change again."))


def _scored_by_code(code: str) -> bool:
    return any(code in (rules.get("categories") or {})
               for rules in db.session.scalars(db.select(DeductionTable.rules)))


def uses_of(unit: Unit) -> dict[str, int]:
    """What still names the unit and is live: sites, people who sign in, findings, cases."""
    def count(model, *where):
        return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))

    return {"sites": count(Site, Site.unit_id == unit.id, Site.deleted_at.is_(None)),
            "people": count(User, User.unit_id == unit.id, User.active.is_(True)),
            "findings": count(Finding, Finding.unit_id == unit.id, Finding.deleted_at.is_(None)),
            "cases": count(Case, Case.unit_id == unit.id, Case.deleted_at.is_(None))}


def delete_unit(unit: Unit, actor):
    """Delete (keep a tombstone of) a unit nothing live names: 409 while anything does.
    A unit's findings stay its own for the bulletins and scores, so a unit that ever had
    one is kept."""
    uses = uses_of(unit)
    if any(uses.values()):
        said = [ngettext("%(num)d site", "%(num)d sites", uses["sites"]),
                ngettext("%(num)d contact", "%(num)d contacts", uses["people"]),
                ngettext("%(num)d finding", "%(num)d findings", uses["findings"]),
                ngettext("%(num)d case", "%(num)d cases", uses["cases"])]
        named = ", ".join(text for text, n in zip(said, uses.values(), strict=True) if n)
        raise Problem(409, _("Still in use"), _(
            "%(unit)s cannot be deleted: %(uses)s still name it. Give the sites and contacts "
            "another unit or disable the contacts first; a unit with findings or cases is "
            "kept for the bulletins.", unit=unit.name, uses=named))
    unit.deleted_at = utcnow()
    db.session.flush()
    record("unit_deleted", actor=actor, subject=unit, detail={"code": unit.code})


# --- The desk: an import of uploaded files ---------------------------------------------

AUDITED = {"units": "unit", "sites": "site", "people": "user"}


def import_uploaded(tables: list[Table], files: list[dict], actor) -> Outcome:
    """Import the tables of uploaded files (ImportFailed: nothing changed), with an event
    for every record made or changed and one for the import: its files' names, sha256
    and sizes, and what it did. No password reaches the trail."""
    outcome = import_tables(tables)
    for kind, found, done, names in outcome.changes:
        names = [n for n in names if n != "deleted_at"] + (
            ["restored"] if "deleted_at" in names and done == "changed" else [])
        detail = {"via": "import", "fields": names}
        if kind == "people" and done == "created":
            detail |= {"username": found.username, "role": found.role}
        record(f"{AUDITED[kind]}_{done}", actor=actor, subject=found, detail=detail)
    record("registry_imported", actor=actor, subject_type="registry_import", detail={
        "files": files, "tallies": {kind: vars(tally) for kind, tally in outcome.tallies.items()},
        "passwords_made": len(outcome.credentials)})
    return outcome
