"""Registry import: check every row of every file, then create or update the records.

Flush, never commit: the command commits once, or rolls back when anything is wrong.
"""

import secrets
from dataclasses import dataclass, field

from ..auth.passwords import hash_password
from ..extensions import db
from ..models import Unit
from .columns import KINDS
from .entries import KEYS, MODELS, Checked, Entry, check_tables
from .reader import ReadError, Table, read_file

# No 0/O or 1/l/I: generated passwords are handed out on paper and typed on phones.
GENERATED_CHARS = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GENERATED_LENGTH = 12


class ImportFailed(Exception):
    """The files hold errors, each naming its file, sheet and row; nothing was changed."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class Tally:
    """How many records of one kind the import created, updated and left as they were."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class Outcome:
    """What an import did, and the passwords it made up (username, name, password)."""

    tallies: dict[str, Tally] = field(default_factory=lambda: {k: Tally() for k in KINDS})
    credentials: list[tuple[str, str, str]] = field(default_factory=list)
    kept_passwords: list[str] = field(default_factory=list)
    # (kind, record, "created" or "changed", the fields set): for the audit trail
    changes: list[tuple[str, object, str, list[str]]] = field(default_factory=list)


def read_files(paths: list[str], names: list[str] | None = None) -> list[Table]:
    """Read every file; ImportFailed lists the problems of all of them, not just the first.
    ``names``: what messages call the files, if not their paths."""
    tables, errors = [], []
    for path, name in zip(paths, names or paths, strict=True):
        try:
            tables += read_file(path, name)
        except ReadError as error:
            errors += error.messages
    if errors:
        raise ImportFailed(errors)
    return tables


def import_tables(tables: list[Table]) -> Outcome:
    """Check every row, then create or update units, sites and people, in that order."""
    # The bureau has tens of units, not thousands: knowing them all keeps the checks simple.
    units = {code: deleted_at is None for code, deleted_at
             in db.session.execute(db.select(Unit.code, Unit.deleted_at))}
    checked = check_tables(tables, units)
    if checked.errors:
        raise ImportFailed(checked.errors)
    outcome = Outcome()
    _upsert("units", checked.entries["units"], outcome)
    by_code = _units_by_code(checked)
    for entry in checked.entries["sites"] + checked.entries["people"]:
        entry.fields |= _unit_id(entry, by_code)
    _upsert("sites", checked.entries["sites"], outcome)
    people = checked.entries["people"]
    created = _upsert("people", people, outcome, on_create=lambda e: _password(e, outcome))
    # A file is no way to reset a password: it would sit in a shared folder for ever.
    outcome.kept_passwords = [e.key for e in people if e.password and e.key not in created]
    return outcome


def _referring(checked: Checked) -> list[Entry]:
    return [e for e in checked.entries["sites"] + checked.entries["people"] if e.unit_code]


def _units_by_code(checked: Checked) -> dict[str, Unit]:
    codes = {e.unit_code for e in _referring(checked)}
    if not codes:
        return {}
    return {u.code: u for u in db.session.scalars(db.select(Unit).where(Unit.code.in_(codes)))}


def _unit_id(entry: Entry, units: dict[str, Unit]) -> dict:
    if entry.unit_code:
        return {"unit_id": units[entry.unit_code].id}
    # A people table with a unit column left empty takes the person out of their unit;
    # one without the column leaves it alone.
    return {"unit_id": None} if entry.unit_column else {}


def _upsert(kind: str, entries: list[Entry], outcome: Outcome, on_create=None) -> set[str]:
    """Create or update one record per entry, matched by code or username; flush."""
    if not entries:
        return set()
    model, key = MODELS[kind], KEYS[kind]
    column = getattr(model, key)
    wanted = [e.key for e in entries]
    found = {getattr(r, key): r for r in db.session.scalars(db.select(model)
                                                              .where(column.in_(wanted)))}
    tally, created = outcome.tallies[kind], set()
    for entry in entries:
        record = found.get(entry.key)
        if record is None:
            extra = on_create(entry) if on_create else {}
            record = model(**entry.fields, **extra)
            db.session.add(record)
            tally.created += 1
            created.add(entry.key)
            outcome.changes.append((kind, record, "created", sorted(entry.fields)))
        elif changed := _assign(record, entry.fields):
            tally.updated += 1
            outcome.changes.append((kind, record, "changed", changed))
        else:
            tally.unchanged += 1
    db.session.flush()
    return created


def _assign(record, fields: dict) -> list[str]:
    """Set the fields that differ and name them: unchanged rows keep their version."""
    changed = [name for name, value in fields.items() if getattr(record, name) != value]
    for name in changed:
        setattr(record, name, fields[name])
    return changed


def _password(entry: Entry, outcome: Outcome) -> dict:
    """The hash for a new person; a password is made up when the file gives none."""
    password = entry.password
    if password is None:
        password = "".join(secrets.choice(GENERATED_CHARS)
                           for _position in range(GENERATED_LENGTH))
        outcome.credentials.append((entry.key, entry.fields["name"], password))
    return {"password_hash": hash_password(password)}
