"""Rows of registry tables checked and turned into entries ready to apply; no database."""

import math
from dataclasses import dataclass, field

from flask_babel import gettext as _

from sync.vocabulary import SITE_KINDS

from ..models import Site, Unit, User
from ..roles import ROLES
from .columns import KINDS, normalise
from .reader import Row, Table

SITE_KIND_WORDS = {"机关科室": "office", "科室": "office", "办公": "office", "办公室": "office",
                   "机关": "office", "工地": "construction_site", "建筑工地": "construction_site",
                   "在建工地": "construction_site", "道路": "road", "道路工程": "road",
                   "村镇": "village", "村庄": "village", "其他": "other", "其它": "other"}
ROLE_WORDS = {"督查组成员": "inspector", "检查员": "inspector", "督查员": "inspector",
              "监督员": "supervisor", "政风行风监督员": "supervisor", "行风监督员": "supervisor",
              "审核员": "reviewer", "审核人员": "reviewer", "督查组长": "compiler",
              "督查组组长": "compiler", "汇编": "compiler",
              "汇编员": "compiler", "单位联系人": "unit", "联系人": "unit",
              "科室联系人": "unit", "管理员": "admin", "系统管理员": "admin"}
MODELS = {"units": Unit, "sites": Site, "people": User}
KEYS = {"units": "code", "sites": "code", "people": "username"}
DEFAULT_RADIUS_M = 100
# A geofence wider than this is a typo: a road works is fenced at about 300 m, an office
# at 80 m, and the widest site of the demo bureau at 500 m. The desk's form and the
# import keep the same limit.
MAX_RADIUS_M = 5000
MIN_PASSWORD = 8


class Invalid(ValueError):
    """A cell whose value cannot be used; the message says why, for a person."""


@dataclass
class Entry:
    """A checked row: the record's key, the fields to set, and where it came from."""

    where: str
    key: str
    fields: dict
    unit_code: str | None = None  # the unit it refers to; resolved when applied
    unit_column: bool = False  # whether the table has a unit column at all
    password: str | None = None


@dataclass
class Checked:
    """The entries of every table by kind, and every problem found."""

    units: dict[str, bool]  # unit code -> usable: live in the database, or in the files
    entries: dict[str, list[Entry]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: list[str] = field(default_factory=list)


def check_tables(tables: list[Table], units: dict[str, bool]) -> Checked:
    """Check every row of every table, collecting all problems rather than the first.

    `units` maps the codes of the units in the database to whether they are live.
    """
    checked = Checked(dict(units))
    first_at: dict[tuple[str, str], str] = {}
    # Units first, so that a site may name a unit from any file of the same import.
    for table in sorted(tables, key=lambda t: KINDS.index(t.kind)):
        for row in table.rows:
            cells = _Cells(table, row, checked.units)
            entry = CHECKS[table.kind](cells)
            checked.errors += cells.errors
            if entry is not None and not cells.errors:
                _add_unique(checked, table.kind, entry, first_at)
    return checked


def _add_unique(checked: Checked, kind: str, entry: Entry, first_at: dict):
    """Refuse a code or username that an earlier row already gave."""
    first = first_at.setdefault((kind, entry.key), entry.where)
    if first == entry.where:
        checked.entries[kind].append(entry)
        return
    message = {"units": _("the unit code %(key)s is also given at %(first)s."),
               "sites": _("the site code %(key)s is also given at %(first)s."),
               "people": _("the username %(key)s is also given at %(first)s.")}[kind]
    checked.errors.append(f"{entry.where}: " + message % {"key": entry.key, "first": first})


class _Cells:
    """One row's cells, read with every problem noted instead of stopping at the first."""

    def __init__(self, table: Table, row: Row, units: dict[str, bool]):
        self.table, self.row, self.units, self.errors = table, row, units, []
        self.where = table.where(row)
        self.model = MODELS[table.kind]

    def has(self, name: str) -> bool:
        return name in self.table.headers

    def text(self, name: str, required: bool = False, limited: bool = True) -> str | None:
        value = self.row.values.get(name, "")
        if not value:
            if required:
                self.fail(name, _("the cell is empty."))
            return None
        column = self.model.__table__.columns.get(name) if limited else None
        limit = getattr(column.type, "length", None) if column is not None else None
        if limit and len(value) > limit:
            self.fail(name, _("longer than %(n)s characters.", n=limit))
        return value

    def parsed(self, name: str, parse, required: bool = False):
        value = self.text(name, required, limited=False)  # the parser judges the value
        try:
            return None if value is None else parse(value)
        except Invalid as exc:
            self.fail(name, str(exc))
            return None

    def fail(self, name: str, message: str):
        header = self.table.headers.get(name, name)
        self.errors.append(f"{self.where}: {header}: {message}")

    def unit_code(self, required: bool) -> str | None:
        """A unit's code, which must be live in the database or given in a units table."""
        code = self.text("unit_code", required)
        if code is not None and not self.units.get(code):
            if code in self.units:
                self.fail("unit_code", _("the unit %(code)s has been deleted.", code=code))
            else:
                self.fail("unit_code", _("no unit has the code %(code)s; add it to a units "
                                         "table or create it first.", code=code))
        return code

    def optional(self, names: tuple[str, ...]) -> dict:
        """Fields of optional columns; a column the table lacks leaves the record's value."""
        return {name: self.text(name) for name in names if self.has(name)}


def _unit(cells: _Cells) -> Entry | None:
    code, name = cells.text("code", True), cells.text("name", True)
    if code:
        cells.units[code] = True  # even a row with errors, so that no error follows from it
    # deleted_at: listing a deleted unit again brings it back.
    fields = {"code": code, "name": name, "deleted_at": None} | cells.optional(("leader_name",))
    return Entry(cells.where, code, fields) if code else None


def _site(cells: _Cells) -> Entry | None:
    code, name = cells.text("code", True), cells.text("name", True)
    kind = cells.parsed("kind", parse_site_kind, True)
    unit_code = cells.unit_code(required=True)
    fields = {"code": code, "name": name, "kind": kind, "deleted_at": None}
    fields |= _place(cells) | cells.optional(("address",))
    return Entry(cells.where, code, fields, unit_code, unit_column=True) if code else None


def _place(cells: _Cells) -> dict:
    """Latitude, longitude and geofence radius, as far as the table gives them."""
    place = {}
    if cells.has("lat") or cells.has("lon"):
        lat = cells.parsed("lat", lambda v: parse_coordinate(v, 90))
        lon = cells.parsed("lon", lambda v: parse_coordinate(v, 180))
        if (cells.row.values.get("lat", "") == "") != (cells.row.values.get("lon", "") == ""):
            cells.fail("lat" if cells.has("lat") else "lon",
                       _("give both latitude and longitude, or neither."))
        place |= {"lat": lat, "lon": lon}
    if cells.has("radius_m"):
        place["radius_m"] = cells.parsed("radius_m", parse_radius) or DEFAULT_RADIUS_M
    return place


def _person(cells: _Cells) -> Entry | None:
    username, name = cells.text("username", True), cells.text("name", True)
    role = cells.parsed("role", parse_role, True)
    unit_code = cells.unit_code(required=False)
    if role == "unit" and not unit_code:
        cells.fail("unit_code" if cells.has("unit_code") else "role",
                   _("a unit contact needs the code of their unit."))
    password = cells.text("password")
    if password is not None and len(password) < MIN_PASSWORD:
        cells.fail("password", _("the password must have at least %(n)s characters.",
                                 n=MIN_PASSWORD))
    fields = {"username": username, "name": name, "role": role} | cells.optional(("phone",))
    return Entry(cells.where, username, fields, unit_code, cells.has("unit_code"),
                 password) if username else None


CHECKS = {"units": _unit, "sites": _site, "people": _person}


def _choose(value: str, codes: tuple[str, ...], words: dict[str, str]) -> str | None:
    key = normalise(value)
    by_code = {normalise(code): code for code in codes}
    return by_code.get(key) or {normalise(w): c for w, c in words.items()}.get(key)


def parse_site_kind(value: str) -> str:
    """A site type from its code or Chinese word: 工地 → construction_site."""
    kind = _choose(value, SITE_KINDS, SITE_KIND_WORDS)
    if kind is None:
        raise Invalid(_("unknown site type %(value)s; use one of %(choices)s.", value=value,
                        choices="机关科室, 工地, 道路, 村镇, 其他 / " + ", ".join(SITE_KINDS)))
    return kind


def parse_role(value: str) -> str:
    """A role from its code or Chinese word: 政风行风监督员 → supervisor."""
    role = _choose(value, ROLES, ROLE_WORDS)
    if role is None:
        raise Invalid(_("unknown role %(value)s; use one of %(choices)s.", value=value,
                        choices="督查组成员, 监督员, 审核员, 督查组长, 单位联系人, 管理员 / "
                        + ", ".join(ROLES)))
    return role


def parse_coordinate(value: str, bound: int) -> float:
    """A latitude (bound 90) or longitude (bound 180) in decimal degrees."""
    try:
        number = float(value)
    except ValueError:
        raise Invalid(_("%(value)s is not a number of degrees.", value=value)) from None
    if not math.isfinite(number) or abs(number) > bound:
        raise Invalid(_("%(value)s is outside -%(bound)s to %(bound)s degrees.", value=value,
                        bound=bound))
    return number


def parse_radius(value: str) -> int:
    """A geofence radius: a whole number of metres, above 0 and at most MAX_RADIUS_M."""
    try:
        number = int(value)
    except ValueError:
        raise Invalid(_("%(value)s is not a whole number of metres.", value=value)) from None
    if not 0 < number <= MAX_RADIUS_M:
        raise Invalid(_("the radius must be between 1 and %(max)s metres.", max=MAX_RADIUS_M))
    return number
