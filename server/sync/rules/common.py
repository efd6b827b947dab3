"""Shared pieces of the push rules: refusal, references, ownership, append-only merges."""

from flask_babel import gettext as _
from sqlalchemy.orm.instrumentation import manager_of_class

from ...extensions import db
from ...models import Category, Plan, Site, Unit
from ..audience import keys_for, user_keys

FIELD_STAFF = {"inspector", "supervisor"}   # who runs checks on phones
REVIEWERS = {"reviewer", "compiler"}
REGISTRY = (Unit, Site, Category, Plan)  # phones cannot change them, so a push cannot either


class Rejected(Exception):
    """The mutation is invalid or not allowed; ``status`` and ``detail`` say why."""

    def __init__(self, status: int, detail: str, errors: list[dict] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.errors = status, detail, errors or []


def can_see(user, record) -> bool:
    return bool(keys_for(record) & set(user_keys(user)))


def lookup(model, entity_id, *, lock: bool = False):
    """The record, or None. Within a push the records found (or made) are kept at hand:
    the session's identity map holds them only weakly, so each would be read again."""
    known = db.session.info.setdefault("push_records", {})
    key = (model, entity_id)
    if key not in known:
        known[key] = db.session.get(model, entity_id, with_for_update=lock)
    return known[key]


def new_record(model, **columns):
    """``model(**columns)`` without an attribute event per value: a record the push is
    making has no history to keep, and a batch makes hundreds (this is 5x faster).
    Columns only; set relationships on the result."""
    record = manager_of_class(model).new_instance()
    record.__dict__.update(columns)
    return record


def remember(record):
    """A record made within this push, so later mutations of the batch find it."""
    db.session.info.setdefault("push_records", {})[(type(record), record.id)] = record


def in_this_push(model) -> list:
    """The records of ``model`` this push has found or made so far; those it made are
    not in the database yet, so a query does not find them."""
    return [record for (kind, _id), record in db.session.info.get("push_records", {}).items()
            if kind is model and record is not None]


def forget():
    db.session.info.pop("push_records", None)
    db.session.info.pop("push_usable", None)
    db.session.info.pop("push_uploads", None)


def existing(model, entity_id, user, field: str):
    """A referenced record the user may see, or a rejection naming the field."""
    record = lookup(model, entity_id) if entity_id else None
    if record is None or not _usable(user, record):
        raise Rejected(422, _("%(field)s does not name a record you can use.", field=field),
                       [{"field": f"data.{field}", "message": _("Unknown or not visible.")}])
    return record


def _usable(user, record) -> bool:
    """Not deleted and visible to the user. A batch names the same site or check in many
    mutations; the answer for registry records is kept for the rest of the push."""
    if getattr(record, "deleted_at", None):
        return False
    if not isinstance(record, REGISTRY):
        return can_see(user, record)
    usable = db.session.info.setdefault("push_usable", {})
    key = (type(record), record.id)
    if key not in usable:
        usable[key] = can_see(user, record)
    return usable[key]


def require(fields: dict, *names):
    missing = [n for n in names if fields.get(n) is None]
    if missing:
        raise Rejected(422, _("A new record needs: %(names)s.", names=", ".join(missing)),
                       [{"field": f"data.{n}", "message": _("This field is required.")}
                        for n in missing])


def own(user, created_by):
    if created_by != user.id:
        raise Rejected(403, _("Only the person who made this record may change it."))


def merge_lines(current: str, incoming: str) -> str:
    """Notes are append-only: keep every line either side wrote, in order."""
    lines = current.splitlines()
    known = set(lines)
    lines += [line for line in incoming.splitlines() if line not in known]
    return "\n".join(lines)


def union(current: list, incoming: list) -> list:
    values = [str(v) for v in current]
    return values + [str(v) for v in incoming if str(v) not in values]


