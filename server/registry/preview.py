"""What an import of registry files would do, row by row, and every problem in them, by
file, sheet and row; nothing is changed (the import itself runs the same checks again)."""

import re
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import gettext as _

from ..extensions import db
from ..models import Unit
from .columns import KINDS
from .entries import KEYS, MODELS, Entry, check_tables
from .importer import ImportFailed, Tally, read_files
from .reader import ZIP_MAGIC

SHOWN = 2000  # rows of problems or of changes a page lists; a registry has a few hundred
_ROW = re.compile(r"(\d+)(?::|$)(.*)", re.S)


@dataclass
class Place:
    """Where in the files a problem or a row is, and what is said of it."""

    file: str
    sheet: str | None
    row: int | None
    message: str = ""


@dataclass
class Change:
    """What one good row would do: create a record, change some of its fields, or none."""

    kind: str
    where: Place
    key: str
    action: str  # created, changed, unchanged
    fields: list[str] = field(default_factory=list)
    password_kept: bool = False


@dataclass
class Preview:
    problems: list[Place] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    tallies: dict[str, Tally] = field(default_factory=lambda: {k: Tally() for k in KINDS})
    ignored: list[tuple[str, list[str]]] = field(default_factory=list)  # source, columns


_TALLY = {"created": "created", "changed": "updated", "unchanged": "unchanged"}


def preview(paths: list[str], names: list[str]) -> Preview:
    """Read and check the files as the import would, and compare their rows with the
    records they name."""
    # The reader takes a zip for a workbook whatever its name, and names its sheets.
    workbooks = {name for path, name in zip(paths, names, strict=True) if _zipped(path)}
    seen = Preview()
    try:
        tables = read_files(paths, names)
    except ImportFailed as failed:
        seen.problems = [locate(text, names, workbooks) for text in failed.errors]
        return seen
    seen.ignored = [(t.source, t.ignored) for t in tables if t.ignored]
    units = {code: deleted_at is None for code, deleted_at
             in db.session.execute(db.select(Unit.code, Unit.deleted_at))}
    checked = check_tables(tables, units)
    seen.problems = [locate(text, names, workbooks) for text in checked.errors]
    headers = {table.source: table.headers for table in tables}
    for kind in KINDS:
        seen.changes += _changes(kind, checked.entries[kind], names, workbooks, headers)
    for change in seen.changes:
        tally, counted = seen.tallies[change.kind], _TALLY[change.action]
        setattr(tally, counted, getattr(tally, counted) + 1)
    return seen


def _zipped(path: str) -> bool:
    with Path(path).open("rb") as f:
        return f.read(len(ZIP_MAGIC)) == ZIP_MAGIC


def locate(text: str, names: list[str], workbooks: set[str]) -> Place:
    """Split "FILE[:SHEET][:ROW][: message]" as the reader and the checks write it. File
    names hold no colon (the upload replaced them) and Excel allows none in a sheet's."""
    for name in sorted(names, key=len, reverse=True):
        if text == name or text.startswith(name + ":"):
            rest = text[len(name) + 1:]
            break
    else:
        return Place("", None, None, text)
    sheet = None
    if name in workbooks and rest and not rest.startswith(" "):
        sheet, _colon, rest = rest.partition(":")
    row = None
    found = _ROW.match(rest)
    if found:
        row, rest = int(found.group(1)), found.group(2)
    return Place(name, sheet, row, rest.strip())


def _changes(kind: str, entries: list[Entry], names, workbooks, headers) -> list[Change]:
    """What each entry would do to the record of its key; a changed field is named by the
    header its file gave it."""
    if not entries:
        return []
    model, key = MODELS[kind], KEYS[kind]
    column = getattr(model, key)
    found = {getattr(r, key): r for r in db.session.scalars(
        db.select(model).where(column.in_([e.key for e in entries])))}
    codes = dict(db.session.execute(db.select(Unit.id, Unit.code)).all())
    changes = []
    for entry in entries:
        where, record = locate(entry.where, names, workbooks), found.get(entry.key)
        if record is None:
            changes.append(Change(kind, where, entry.key, "created"))
            continue
        changed = [n for n, v in entry.fields.items() if getattr(record, n) != v]
        if kind != "units" and (entry.unit_code or entry.unit_column) and \
                codes.get(record.unit_id) != entry.unit_code:
            changed.append("unit_code")
        said = headers[entry.where.rpartition(":")[0]]
        changed = [_("restored") if n == "deleted_at" else said.get(n, n) for n in changed]
        changes.append(Change(kind, where, entry.key, "changed" if changed else "unchanged",
                              changed, password_kept=kind == "people" and bool(entry.password)))
    return changes
