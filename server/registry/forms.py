"""The registry desk's forms: what a person typed, checked field by field, and the values
to save. Every problem is collected, so the page names them all at once."""

import math
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from sync.vocabulary import SEVERITIES, SITE_KINDS

from ..extensions import db
from ..models import Category, Site, Unit
from ..visibility import as_uuid
from .entries import MAX_RADIUS_M

SITE_KIND_LABELS = {"office": _l("office"), "construction_site": _l("construction site"),
                    "road": _l("road works"), "village": _l("village works"),
                    "other": _l("other")}
MAX_DEADLINE_DAYS = 365
MAX_POSITION = 9999
NUMBER_CHARS = 32  # the longest number worth reading
# PostgreSQL refuses NUL in text, and no name or code has a line break or a tab in it.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class Form:
    """What was typed (shown again as typed), the values to save, and the problems by
    field."""

    typed: dict[str, str]
    values: dict = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class _Reader:
    """Reads one posted form; each field that fails notes why and reads as None."""

    def __init__(self, posted, names: tuple[str, ...]):
        # Cut just past any limit: a pasted megabyte is not carried further, and the
        # length check still sees the text is too long.
        self.form = Form({name: posted.get(name, "")[:1000] for name in names})

    def text(self, name: str, column, required: bool = True) -> str | None:
        value = self.form.typed[name].strip()
        limit = column.type.length
        if not value:
            if required:
                self.fail(name, _("Fill this in."))
            return None
        if CONTROL.search(value):
            return self.fail(name, _("Remove the control characters (line breaks, tabs)."))
        if len(value) > limit:
            return self.fail(name, _("At most %(n)s characters.", n=limit))
        return value

    def number(self, name: str, low: float, high: float, message: str,
               whole: bool = False, required: bool = True):
        value = self.form.typed[name].strip()
        if not value:
            return self.fail(name, message) if required else None
        try:
            if len(value) > NUMBER_CHARS:
                raise ValueError(value)
            number = int(value) if whole else float(value)
        except ValueError:
            return self.fail(name, message)
        if not math.isfinite(number) or not low <= number <= high:
            return self.fail(name, message)
        return number

    def choice(self, name: str, choices, message: str) -> str | None:
        value = self.form.typed[name]
        return value if value in choices else self.fail(name, message)

    def fail(self, name: str, message: str):
        self.form.errors.setdefault(name, message)
        return None

    def done(self, **values) -> Form:
        self.form.values = values
        return self.form


def unit_form(posted) -> Form:
    read = _Reader(posted, ("code", "name", "leader_name", "version"))
    columns = Unit.__table__.columns
    return read.done(code=read.text("code", columns.code), name=read.text("name", columns.name),
                     leader_name=read.text("leader_name", columns.leader_name, required=False))


def site_form(posted) -> Form:
    read = _Reader(posted, ("code", "name", "kind", "unit_id", "lat", "lon", "radius_m",
                            "address", "version"))
    columns = Site.__table__.columns
    typed = read.form.typed
    given = [bool(typed["lat"].strip()), bool(typed["lon"].strip())]
    lat = read.number("lat", -90, 90, _("A latitude from -90 to 90 degrees, such as 34.2612."),
                      required=any(given))
    lon = read.number("lon", -180, 180,
                      _("A longitude from -180 to 180 degrees, such as 117.1865."),
                      required=any(given))
    return read.done(
        code=read.text("code", columns.code), name=read.text("name", columns.name),
        kind=read.choice("kind", SITE_KINDS, _("Choose the kind of site.")),
        unit_id=_live_unit(read), lat=lat, lon=lon,
        radius_m=read.number("radius_m", 1, MAX_RADIUS_M,
                             _("A whole number of metres from 1 to %(max)s.", max=MAX_RADIUS_M),
                             whole=True),
        address=read.text("address", columns.address, required=False))


def _live_unit(read: _Reader):
    ident = as_uuid(read.form.typed["unit_id"])
    unit = db.session.get(Unit, ident) if ident else None
    if unit is None or unit.deleted_at is not None:
        return read.fail("unit_id", _("Choose the unit answerable for the site."))
    return unit.id


def category_form(posted) -> Form:
    read = _Reader(posted, ("code", "name_zh", "name_en", "default_severity",
                            "default_deadline_days", "position", "version"))
    columns = Category.__table__.columns
    return read.done(
        code=read.text("code", columns.code), name_zh=read.text("name_zh", columns.name_zh),
        name_en=read.text("name_en", columns.name_en),
        default_severity=read.choice("default_severity", SEVERITIES,
                                     _("Choose general or major.")),
        default_deadline_days=read.number(
            "default_deadline_days", 1, MAX_DEADLINE_DAYS,
            _("A whole number of days from 1 to %(max)s.", max=MAX_DEADLINE_DAYS), whole=True),
        position=read.number("position", 0, MAX_POSITION,
                             _("A whole number from 0 to %(max)s.", max=MAX_POSITION),
                             whole=True))


def typed_of(record, names: tuple[str, ...]) -> Form:
    """A record's fields as its form shows them before anything is typed."""
    values = {name: getattr(record, name, None) for name in names}
    return Form({name: "" if value is None else str(value) for name, value in values.items()})


UNIT_FIELDS = ("code", "name", "leader_name", "version")
SITE_FIELDS = ("code", "name", "kind", "unit_id", "lat", "lon", "radius_m", "address",
               "version")
CATEGORY_FIELDS = ("code", "name_zh", "name_en", "default_severity", "default_deadline_days",
                   "position", "version")
