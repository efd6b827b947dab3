"""Apply pushed mutations: each atomically, at most once, with a result for each."""

import contextlib
import hashlib
import json

import orjson
import psycopg
import sqlalchemy as sa
from flask_babel import gettext as _
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from sync.messages import Mutation
from sync.records import PUSHABLE
from sync.vocabulary import OPS, READ_ONLY_TYPES

from ..api.records import MODELS, to_data
from ..api.routing import invalid
from ..cases.rules import CaseRules, RectificationRules
from ..checks.rules import CheckRules, FindingRules
from ..errors import problem_document
from ..evidence.rules import EvidenceRules
from ..extensions import db
from ..models import AppliedMutation, utcnow
from ..rules import PushContext, Refused
from ..sql import among
from ..visibility import can_see
from . import bulk, feed

# Each record type a phone may write, to the rules of its stage.
RULES = {"check": CheckRules(), "finding": FindingRules(), "evidence": EvidenceRules(),
         "case": CaseRules(), "rectification": RectificationRules()}


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


def _rejected(m: Mutation, refusal: Refused) -> dict:
    return {"id": m.id, "status": "rejected", "version": None,
            "error": problem_document(refusal)}


def _load(m: Mutation, ctx: PushContext):
    record = ctx.lookup(MODELS[m.type], m.entity_id, lock=True)
    if record is not None and not can_see(ctx.user, record):
        # Someone else's id: say no more than "not found".
        raise Refused(404, _("No record with this id is yours to change."))
    return record


def _upsert(m: Mutation, ctx: PushContext, record):
    try:
        fields = PUSHABLE[m.type].model_validate(m.data).sent()
    except ValidationError as exc:
        problem = invalid(exc)
        errors = [{"field": f"data.{e['field']}", "message": e["message"]}
                  for e in problem.errors]
        raise Refused(422, problem.detail, errors) from None
    rules = RULES[m.type]
    if record is None:
        if m.base_version is not None:
            raise Refused(404, _("The record does not exist; send base_version null to "
                                 "create it."))
        record = rules.create(ctx, m.entity_id, fields)
        ctx.remember(record)  # not yet in the session: the caller inserts it
        return record
    if record.deleted_at is not None:
        raise Refused(410, _("The record was deleted."))
    rules.may_change(ctx, record)
    if m.base_version != record.version and set(fields) - rules.append_only:
        raise Conflict(record)
    rules.update(ctx, record, fields)
    return record


def _delete(m: Mutation, ctx: PushContext, record):
    if record is None:
        raise Refused(404, _("No record with this id is yours to delete."))
    if record.deleted_at is None:
        if m.base_version is not None and m.base_version != record.version:
            raise Conflict(record)
        RULES[m.type].may_delete(ctx, record)
        record.deleted_at = utcnow()
    return record


def _change(m: Mutation, ctx: PushContext):
    """Make the mutation's change to the session (not flushed); return the record."""
    if m.type not in MODELS:  # a newer app's record type
        raise Refused(422, _("This server does not know %(type)s records; it may be older "
                             "than the app.", type=m.type),
                      [{"field": "type", "message": _("Is not one of the allowed values.")}])
    if m.op not in OPS:
        raise Refused(422, _("A mutation's op is upsert or delete."),
                      [{"field": "op", "message": _("Is not one of the allowed values.")}])
    if m.type in READ_ONLY_TYPES:
        raise Refused(403, _("Phones cannot change %(type)s records.", type=m.type))
    record = _load(m, ctx)
    return (_delete if m.op == "delete" else _upsert)(m, ctx, record)


def _remembered(m: Mutation, ctx: PushContext, version: int) -> dict:
    return {"id": m.id, "device_id": ctx.device.id, "type": m.type, "entity_id": m.entity_id,
            "digest": digest(m), "version": version}


def _apply(m: Mutation, ctx: PushContext) -> int:
    record = _change(m, ctx)
    if sa.inspect(record).transient:
        db.session.add(record)
    db.session.flush()
    db.session.add(AppliedMutation(**_remembered(m, ctx, record.version)))
    db.session.flush()
    return record.version


def _earlier(m: Mutation) -> dict | None:
    previous = db.session.get(AppliedMutation, m.id)
    if previous is None:
        return None
    if previous.digest != digest(m):
        return _rejected(m, Refused(409, _("This mutation id was already used for another "
                                           "change; give every change its own id.")))
    return {"id": m.id, "status": "duplicate", "version": previous.version}


def apply_mutation(m: Mutation, ctx: PushContext) -> dict:
    """Apply one mutation in its own savepoint; never raises for the phone's mistakes."""
    earlier = _earlier(m)
    if earlier is not None:
        return earlier
    try:
        with db.session.begin_nested():
            try:
                version = _apply(m, ctx)
            except BaseException:
                ctx.forget()  # what the rolled-back savepoint made is gone
                raise
        return {"id": m.id, "status": "applied", "version": version}
    except Refused as refusal:
        return _rejected(m, refusal)
    except Conflict as conflict:
        return {"id": m.id, "status": "conflict", "version": conflict.version,
                "current": conflict.current}
    except (IntegrityError, StaleDataError):
        # A concurrent push of the same mutation or record won the race.
        return _earlier(m) or _raced(m, ctx)


def _raced(m: Mutation, ctx: PushContext) -> dict:
    db.session.expire_all()
    record = db.session.get(MODELS[m.type], m.entity_id)
    if record is not None and can_see(ctx.user, record):
        return {"id": m.id, "status": "conflict", "version": record.version,
                "current": to_data(record)}
    return _rejected(m, Refused(409, _("The record changed at the same time; pull and try "
                                       "again.")))


class _Fallback(Exception):
    """The batch is not all plain sailing: apply it one mutation at a time instead."""


def _prefetch(mutations: list[Mutation], ctx: PushContext):
    """Read the targets of the batch in one query per type (locked for update)."""
    by_type: dict = {}
    for m in mutations:
        by_type.setdefault(m.type, set()).add(m.entity_id)
    for kind, ids in by_type.items():
        if kind not in MODELS:
            continue  # refused by _change
        model = MODELS[kind]
        found = {r.id: r for r in db.session.scalars(
            db.select(model).where(among(model.id, ids)).with_for_update())}
        for entity_id in ids:
            ctx.records[(model, entity_id)] = found.get(entity_id)
        if hasattr(RULES.get(kind), "prefetch"):
            RULES[kind].prefetch(ctx, ids)


def _all_at_once(mutations: list[Mutation], ctx: PushContext) -> tuple[list[dict], list]:
    """The common case, fast: every mutation new and accepted; one flush for the batch.
    Returns the results and the records it inserted outside the session.

    A mutation applied before is not looked for first (a round trip every push would
    pay): its id breaks the remembered mutations' key when they are inserted, and the
    batch goes one by one, which answers ``duplicate``. Most such mutations stop earlier,
    a create or an update of a record that has moved on being a conflict here."""
    if len({m.id for m in mutations}) < len(mutations):
        raise _Fallback
    _prefetch(mutations, ctx)
    with db.session.no_autoflush:
        try:
            records = [_change(m, ctx) for m in mutations]
        except (Refused, Conflict):
            raise _Fallback from None
    db.session.flush()  # updates of records that existed, and new ones they point to
    made = list({id(r): r for r in records if sa.inspect(r).transient}.values())
    with _pipelined(len(mutations) < bulk.COPY_FROM):  # COPY cannot run in a pipeline
        bulk.insert_new(db.session(), made)
        now = utcnow()
        bulk.write(db.session.connection(), AppliedMutation.__table__, [
            _remembered(m, ctx, r.version) | {"applied_at": now}
            for m, r in zip(mutations, records, strict=True)])
    results = [{"id": m.id, "status": "applied", "version": r.version}
               for m, r in zip(mutations, records, strict=True)]
    return results, made


@contextlib.contextmanager
def _pipelined(wanted: bool):
    """On PostgreSQL, a small batch's inserts sent without waiting for each table's
    answer (a psycopg pipeline): one round trip for them all, where each would wait for
    a core under load. An error then arrives at the block's end, outside SQLAlchemy: it
    is raised as SQLAlchemy would have raised it."""
    connection = db.session.connection()
    if not wanted or connection.dialect.name != "postgresql":
        yield
        return
    try:
        with connection.connection.driver_connection.pipeline():
            yield
    except psycopg.errors.IntegrityError as error:
        raise IntegrityError(None, None, error) from error


def apply_batch(mutations: list[Mutation], ctx: PushContext) -> list[dict]:
    """One result per mutation, in order. A rejected one does not stop the rest."""
    if not mutations:
        return []
    # No savepoint around the fast path: its SAVEPOINT and RELEASE were two of a small
    # push's eleven round trips, and under load each waits for a core. The request's
    # transaction holds nothing else to keep (the device's last sight is committed
    # before), so when the batch is not plain sailing all of it is rolled back: what
    # _change set on loaded records, the audit events it queued, and the rows of
    # records inserted in bulk (their objects never joined the session).
    try:
        results, made = _all_at_once(mutations, ctx)
        feed.created(db.session, made)
        return results
    except (_Fallback, IntegrityError, StaleDataError):
        db.session.rollback()
    finally:
        ctx.forget()
    try:
        return [apply_mutation(m, ctx) for m in mutations]
    finally:
        ctx.forget()
