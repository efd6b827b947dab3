"""Append events to the hash chain, and verify it.

An event's ``hash`` is the sha256 of the previous event's hash followed by the canonical
JSON of the event itself (id, time, actor, action, subject, detail). Editing an event
breaks its own hash; deleting or inserting one breaks the next event's ``prev_hash``;
deleting the newest ones leaves the chain shorter than its head row says.

Events are written at commit, together with the change they record, and under a lock
on the one head row: concurrent transactions queue there for a moment, so the events
form one chain and ids follow it without gaps. Nothing is written for a transaction
that rolls back.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import event

from ..extensions import db
from ..models import AuditEvent, AuditHead, utcnow

_KEY = "audit"  # the session's pending events, under this key of ``session.info``


def record(action: str, *, actor=None, subject=None, subject_type=None, subject_id=None,
           detail: dict | None = None, at=None) -> dict:
    """Queue an event; it is appended when the session commits, with the change it
    records. ``subject`` is a record (its class names the type), or give
    ``subject_type`` and ``subject_id``. ``at``: when it happened, if not now (the demo
    writes its month's history)."""
    if subject is not None:
        subject_type = subject_type or type(subject).__name__.lower()
        subject_id = subject.id
    pending = {"at": at or utcnow(), "actor_id": getattr(actor, "id", actor), "action": action,
               "subject_type": subject_type,
               "subject_id": str(subject_id) if subject_id is not None else None,
               "detail": detail or {}}
    session = db.session()
    session.connection()  # a transaction, so that a rollback forgets the event
    # With the innermost transaction, so that a savepoint rolled back (a refused
    # mutation of a push) forgets the events made inside it.
    inside = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_KEY, []).append((pending, inside))
    return pending


def canonical(body: dict) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str).encode()


def _instant(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def body_of(event_id: int, values: dict) -> dict:
    """The fields an event's hash covers, as plain JSON values."""
    actor = values["actor_id"]
    return {"id": event_id, "at": _instant(values["at"]),
            "actor_id": str(actor) if actor is not None else None,
            "action": values["action"], "subject_type": values["subject_type"],
            "subject_id": values["subject_id"], "detail": values["detail"]}


def link(prev_hash: str, body: dict) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(body)).hexdigest()


def _take_head(connection) -> tuple[int, str]:
    """Lock the head row (PostgreSQL: row lock; SQLite: the write lock) and read it."""
    lock = (sa.update(AuditHead).where(AuditHead.id == 1)
            .values(last_id=AuditHead.last_id)
            .returning(AuditHead.last_id, AuditHead.last_hash))
    row = connection.execute(lock).first()
    if row is None:  # a new database, or one whose tables were emptied
        last = connection.execute(sa.select(AuditEvent.id, AuditEvent.hash)
                                  .order_by(AuditEvent.id.desc()).limit(1)).first()
        connection.execute(sa.text(
            "INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, :id, :hash) "
            "ON CONFLICT (id) DO NOTHING"),
            {"id": last[0] if last else 0, "hash": last[1] if last else ""})
        row = connection.execute(lock).first()
    return row[0], row[1]


def _before_commit(session):
    if session.in_nested_transaction():
        return
    pending = [values for values, _inside in session.info.pop(_KEY, [])]
    if not pending:
        return
    connection = session.connection()
    last_id, last_hash = _take_head(connection)
    rows = []
    for values in pending:
        last_id += 1
        prev_hash, last_hash = last_hash, link(last_hash, body_of(last_id, values))
        rows.append(values | {"id": last_id, "prev_hash": prev_hash or None,
                              "hash": last_hash})
    connection.execute(sa.insert(AuditEvent.__table__), rows)
    connection.execute(sa.update(AuditHead).where(AuditHead.id == 1)
                       .values(last_id=last_id, last_hash=last_hash))


def _after_soft_rollback(session, previous_transaction):
    if previous_transaction.parent is None:
        session.info.pop(_KEY, None)
        return
    kept = [(values, inside) for values, inside in session.info.get(_KEY, [])
            if not _within(inside, previous_transaction)]
    session.info[_KEY] = kept


def _within(transaction, outer) -> bool:
    """Whether ``transaction`` is ``outer`` or began inside it."""
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


def init_app(session_target):
    """Listen on the app's session; before the change feed, so every transaction takes
    the audit lock before the feed's and two transactions never wait on each other."""
    if not event.contains(session_target, "before_commit", _before_commit):
        event.listen(session_target, "before_commit", _before_commit)
        event.listen(session_target, "after_soft_rollback", _after_soft_rollback)


# --- Verify -----------------------------------------------------------------------------

@dataclass
class Verdict:
    count: int
    head: str
    problem: str | None = None  # the first thing wrong, naming its event
    bad_id: int | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify(session, batch: int = 5000) -> Verdict:
    """Walk the chain from its start; the first broken link is the verdict."""
    prev_hash, expected_id, count = "", 1, 0
    last_seen = 0
    while True:
        events = session.execute(
            sa.select(AuditEvent.id, AuditEvent.at, AuditEvent.actor_id, AuditEvent.action,
                      AuditEvent.subject_type, AuditEvent.subject_id, AuditEvent.detail,
                      AuditEvent.prev_hash, AuditEvent.hash)
            .where(AuditEvent.id > last_seen).order_by(AuditEvent.id).limit(batch)).all()
        if not events:
            break
        for row in events:
            values = row._asdict()
            if row.id != expected_id:
                return Verdict(count, prev_hash, f"event {expected_id} is missing "
                               f"(the next one is {row.id})", expected_id)
            if (row.prev_hash or "") != prev_hash:
                return Verdict(count, prev_hash, f"event {row.id} does not follow event "
                               f"{row.id - 1}: an event was deleted, inserted or edited",
                               row.id)
            if link(prev_hash, body_of(row.id, values)) != row.hash:
                return Verdict(count, prev_hash, f"event {row.id} was edited", row.id)
            prev_hash, expected_id, count = row.hash, row.id + 1, count + 1
        last_seen = events[-1].id
    head = session.execute(sa.select(AuditHead.last_id, AuditHead.last_hash)
                           .where(AuditHead.id == 1)).first()
    if head is not None and (head.last_id, head.last_hash) != (count, prev_hash):
        return Verdict(count, prev_hash, f"the chain ends at event {count} but its head "
                       f"records event {head.last_id}: events were deleted from its end, "
                       "or added to it", min(count, head.last_id) + 1)
    if head is None and count:
        return Verdict(count, prev_hash, "the chain's head row is missing", count)
    return Verdict(count, prev_hash)

