"""Apply pushed mutations: each atomically, at most once, with a result for each."""

import hashlib
import json

import orjson
import sqlalchemy as sa
from flask_babel import gettext as _
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from sync.messages import Mutation
from sync.records import PUSHABLE, READ_ONLY

from ..api.routing import invalid
from ..errors import PROBLEM_TYPE
from ..extensions import db
from ..models import AppliedMutation, utcnow
from ..sql import among
from . import feed
from .bulk import insert_new
from .rules import RULES, Rejected, can_see
from .rules.common import forget, lookup, remember
from .serialize import MODELS, to_data

KINDS = {403: "forbidden", 404: "not-found", 409: "conflict", 410: "gone", 422: "invalid"}


def _title(status: int) -> str:
    return {403: _("Not allowed"), 404: _("Not found"),
            409: _("Conflict with the record's state"), 410: _("Deleted")}.get(
        status, _("Invalid mutation"))


class Conflict(Exception):
    def __init__(self, record):
        super().__init__("conflict")
        self.version, self.current = record.version, to_data(record)


def digest(m: Mutation) -> str:
    """What the mutation asks for; the same id asking for something else is refused."""
    body = {"type": m.type, "op": m.op, "entity_id": str(m.entity_id),
            "base_version": m.base_version, "data": m.data}
    try:
        text = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # a number beyond 64 bits in a field the server ignores
        text = json.dumps(body, sort_keys=True).encode()
    return hashlib.sha256(text).hexdigest()


def _rejected(m: Mutation, status: int, detail: str, errors=None) -> dict:
    return {"id": m.id, "status": "rejected", "version": None, "error": {
        "type": PROBLEM_TYPE + KINDS.get(status, "invalid"), "title": _title(status),
        "status": status, "detail": detail, "errors": errors or []}}


def _load(m: Mutation, user):
    record = lookup(MODELS[m.type], m.entity_id, lock=True)
    if record is not None and not can_see(user, record):
        # Someone else's id: say no more than "not found".
        raise Rejected(404, _("No record with this id is yours to change."))
    return record


def _upsert(m: Mutation, user, record):
    try:
        fields = PUSHABLE[m.type].model_validate(m.data).sent()
    except ValidationError as exc:
        problem = invalid(exc)
        errors = [{"field": f"data.{e['field']}", "message": e["message"]}
                  for e in problem.errors]
        raise Rejected(422, problem.detail, errors) from None
    rules = RULES[m.type]
    if record is None:
        if m.base_version is not None:
            raise Rejected(404, _("The record does not exist; send base_version null to "
                                  "create it."))
        record = rules.create(user, m.entity_id, fields)
        if hasattr(record, "clock_offset_s"):
            record.clock_offset_s = db.session.info.get("push_clock_offset")
        remember(record)  # not yet in the session: the caller inserts it
        return record
    if record.deleted_at is not None:
        raise Rejected(410, _("The record was deleted."))
    rules.may_change(user, record)
    if m.base_version != record.version and set(fields) - rules.append_only:
        raise Conflict(record)
    rules.update(user, record, fields)
    return record


def _delete(m: Mutation, user, record):
    if record is None:
        raise Rejected(404, _("No record with this id is yours to delete."))
    if record.deleted_at is None:
        if m.base_version is not None and m.base_version != record.version:
            raise Conflict(record)
        RULES[m.type].may_delete(user, record)
        record.deleted_at = utcnow()
    return record


def _change(m: Mutation, user):
    """Make the mutation's change to the session (not flushed); return the record."""
    if m.type in READ_ONLY:
        raise Rejected(403, _("Phones cannot change %(type)s records.", type=m.type))
    record = _load(m, user)
    return (_delete if m.op == "delete" else _upsert)(m, user, record)


def _remembered(m: Mutation, device, version: int) -> dict:
    return {"id": m.id, "device_id": device.id, "type": m.type, "entity_id": m.entity_id,
            "digest": digest(m), "version": version}


def _apply(m: Mutation, user, device) -> int:
    record = _change(m, user)
    if sa.inspect(record).transient:
        db.session.add(record)
    db.session.flush()
    db.session.add(AppliedMutation(**_remembered(m, device, record.version)))
    db.session.flush()
    return record.version


def _earlier(m: Mutation) -> dict | None:
    previous = db.session.get(AppliedMutation, m.id)
    if previous is None:
        return None
    if previous.digest != digest(m):
        return _rejected(m, 409, _("This mutation id was already used for another change; "
                                   "give every change its own id."))
    return {"id": m.id, "status": "duplicate", "version": previous.version}


def apply_mutation(m: Mutation, user, device) -> dict:
    """Apply one mutation in its own savepoint; never raises for the phone's mistakes."""
    earlier = _earlier(m)
    if earlier is not None:
        return earlier
    try:
        with db.session.begin_nested():
            try:
                version = _apply(m, user, device)
            except BaseException:
                forget()  # what the rolled-back savepoint made is gone
                raise
        return {"id": m.id, "status": "applied", "version": version}
    except Rejected as no:
        return _rejected(m, no.status, no.detail, no.errors)
    except Conflict as conflict:
        return {"id": m.id, "status": "conflict", "version": conflict.version,
                "current": conflict.current}
    except (IntegrityError, StaleDataError):
        # A concurrent push of the same mutation or record won the race.
        return _earlier(m) or _raced(m, user)


def _raced(m: Mutation, user) -> dict:
    db.session.expire_all()
    record = db.session.get(MODELS[m.type], m.entity_id)
    if record is not None and can_see(user, record):
        return {"id": m.id, "status": "conflict", "version": record.version,
                "current": to_data(record)}
    return _rejected(m, 409, _("The record changed at the same time; pull and try again."))


class _Fallback(Exception):
    """The batch is not all plain sailing: apply it one mutation at a time instead."""


def _prefetch(mutations: list[Mutation]) -> dict:
    """Read the targets of the batch in one query per type (locked for update)."""
    by_type: dict = {}
    for m in mutations:
        by_type.setdefault(m.type, set()).add(m.entity_id)
    known = db.session.info.setdefault("push_records", {})
    for kind, ids in by_type.items():
        model = MODELS[kind]
        found = {r.id: r for r in db.session.scalars(
            db.select(model).where(among(model.id, ids)).with_for_update())}
        for entity_id in ids:
            known[(model, entity_id)] = found.get(entity_id)
        if hasattr(RULES.get(kind), "prefetch"):
            RULES[kind].prefetch(ids)
    return known


def _all_at_once(mutations: list[Mutation], user, device) -> list[dict]:
    """The common case, fast: every mutation new and accepted; one flush for the batch."""
    earlier = set(db.session.connection().scalars(db.select(AppliedMutation.id).where(
        among(AppliedMutation.id, [m.id for m in mutations]))))
    if earlier or len({m.id for m in mutations}) < len(mutations):
        raise _Fallback
    _prefetch(mutations)
    with db.session.no_autoflush:
        try:
            records = [_change(m, user) for m in mutations]
        except (Rejected, Conflict):
            raise _Fallback from None
    db.session.flush()  # updates of records that existed, and new ones they point to
    made = list({id(r): r for r in records if sa.inspect(r).transient}.values())
    insert_new(db.session(), made)
    db.session.info["push_made"] = made
    now = utcnow()
    db.session.connection().execute(db.insert(AppliedMutation.__table__), [
        _remembered(m, device, r.version) | {"applied_at": now}
        for m, r in zip(mutations, records, strict=True)])
    return [{"id": m.id, "status": "applied", "version": r.version}
            for m, r in zip(mutations, records, strict=True)]


def apply_batch(mutations: list[Mutation], user, device, clock_offset=None) -> list[dict]:
    """One result per mutation, in order. A rejected one does not stop the rest.

    ``clock_offset`` (seconds the phone's clock is ahead, from its Date header) is kept
    on new evidence, so a reviewer can judge the times the phone reported.
    """
    db.session.info["push_clock_offset"] = clock_offset
    try:
        return _in_one_go_or_one_by_one(mutations, user, device)
    finally:
        db.session.info.pop("push_clock_offset", None)


def _in_one_go_or_one_by_one(mutations, user, device) -> list[dict]:
    try:
        with db.session.begin_nested():
            results = _all_at_once(mutations, user, device)
        feed.created(db.session, db.session.info.pop("push_made"))
        return results
    except (_Fallback, IntegrityError, StaleDataError):
        # The savepoint is gone, and with it the rows of records inserted in bulk; their
        # objects never joined the session.
        db.session.info.pop("push_made", None)
    finally:
        forget()
    try:
        return [apply_mutation(m, user, device) for m in mutations]
    finally:
        forget()
