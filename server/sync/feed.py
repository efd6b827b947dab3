"""The change feed: every committed change to a synced record becomes a row phones pull.

Session events collect the records a transaction touches; just before it commits, their
current state is written to ``changes`` under a lock held until the commit, so ``seq``
follows commit order and a reader never sees seq N+1 before seq N. Each record keeps only
its newest rows. When someone may no longer see a record, a delete row reaches them.
"""

from dataclasses import dataclass, field
from functools import lru_cache

import orjson
import sqlalchemy as sa
from sqlalchemy import event

from ..api.records import TYPES, as_text, to_data
from ..models import Case, Evidence, FeedRow, Finding, Rectification, utcnow
from ..sql import among
from ..visibility import keys_for
from . import bulk

FEED_LOCK = 0x6D696E67  # "ming": the advisory lock that orders commits to the feed
_KEY = "feed"  # the session's pending changes, under this one key of ``session.info``
_HEAD = "feed head"  # the newest seq when this transaction's rows were written


@dataclass
class _Pending:
    """What a transaction touched, by object identity (a new record has no id before its
    insert): the records, those it made, and those inserted outside the session."""

    touched: dict = field(default_factory=dict)
    new: set = field(default_factory=set)
    bulk: set = field(default_factory=set)


def _pending(session) -> _Pending:
    if _KEY not in session.info:
        session.info[_KEY] = _Pending()
    return session.info[_KEY]


def _touch(session, records, *, new=False):
    pending = _pending(session)
    for record in records:
        if type(record) in TYPES:
            pending.touched[id(record)] = record
            if new:
                pending.new.add(id(record))


def created(session, records):
    """Records inserted outside the unit of work (``bulk.insert_new``): they belong in the
    feed like any record the session inserted, though the session does not hold them."""
    _touch(session, records, new=True)
    _pending(session).bulk.update(id(r) for r in records)


def _before_flush(session, _context, _instances):
    _touch(session, session.new, new=True)
    _touch(session, session.dirty)


def _dependents(session, records) -> list:
    """Records whose audience follows from these (evidence and cases of a finding…)."""
    findings = [r.id for r in records if isinstance(r, Finding)]
    cases = [r.id for r in records if isinstance(r, Case)]
    found = []
    if findings:
        found += session.scalars(sa.select(Evidence).where(Evidence.finding_id.in_(findings)))
        found += session.scalars(sa.select(Case).where(Case.finding_id.in_(findings)))
        cases += [c.id for c in found if isinstance(c, Case)]
    if cases:
        rects = list(session.scalars(
            sa.select(Rectification).where(Rectification.case_id.in_(cases))))
        found += rects
        if rects:
            found += session.scalars(sa.select(Evidence).where(
                Evidence.rectification_id.in_([r.id for r in rects])))
    return found


def _current_rows(session, entries) -> dict:
    """(type, id) -> (data of its upsert row, that row's audience, the audience its delete
    row still owes a delete) for each record that has rows."""
    ids = [entity_id for _type, entity_id in entries]
    if not ids:
        return {}
    rows = session.execute(
        sa.select(FeedRow.type, FeedRow.entity_id, FeedRow.op, FeedRow.data, FeedRow.audience)
        .where(among(FeedRow.entity_id, ids))).all()
    current: dict = {}
    for kind, entity_id, op, data, audience in rows:
        old_data, keys, owed = current.get((kind, entity_id), (None, set(), set()))
        if op == "upsert":
            old_data, keys = data, set(audience.split())
        else:
            owed = set(audience.split())
        current[kind, entity_id] = (old_data, keys, owed)
    return current


def audience_text(keys) -> str:
    return _audience_text(frozenset(keys))


@lru_cache(maxsize=4096)
def _audience_text(keys: frozenset) -> str:
    """Records of a batch mostly share one audience: sort and join it once."""
    return " " + " ".join(sorted(keys)) + " "


def _plan_rows(session, records, new: set):
    """The change rows to write: (type, id, op, version, data, keys). Records made in this
    transaction (ids of the objects in ``new``) have no rows yet: no need to look."""
    current = _current_rows(session, [(TYPES[type(r)], r.id) for r in records
                                      if id(r) not in new])
    rows = []
    for record in records:
        kind = TYPES[type(record)]
        old_data, old_keys, owed = current.get((kind, record.id), (None, set(), set()))
        keys = keys_for(record)
        if record.deleted_at is not None:
            rows.append((kind, record.id, "delete", record.version, None,
                         old_keys | keys | owed))
            continue
        data = to_data(record)
        if data == old_data and keys == old_keys:
            continue
        rows.append((kind, record.id, "upsert", record.version, data, keys))
        # Who lost sight of the record, now or at an earlier change they have not pulled
        # yet, is still owed its delete: rewriting the record's rows must not drop it.
        owed = (owed | (old_keys - keys)) - keys
        if owed:
            rows.append((kind, record.id, "delete", record.version, None, owed))
    return rows


def _write(session, rows, new_ids: set) -> int:
    """Replace the entities' older rows with these, under the feed lock; return the
    feed's head after them. On PostgreSQL this commits the transaction too."""
    stale = {}  # kind -> ids whose older rows go: records made now have none
    for kind, entity_id, *_rest in rows:
        if entity_id not in new_ids:
            stale.setdefault(kind, []).append(entity_id)
    at = utcnow()  # one commit, one time
    if session.get_bind().dialect.name == "postgresql":
        return _write_and_commit(session, stale, rows, at)
    for kind, ids in stale.items():  # SQLite: one writer at a time, no lock to take
        session.execute(sa.delete(FeedRow).where(FeedRow.type == kind,
                                                 among(FeedRow.entity_id, ids)))
    session.connection().execute(sa.insert(FeedRow.__table__), [
        {"type": k, "entity_id": i, "op": op, "version": v, "data": d, "at": at,
         "audience": audience_text(keys)} for k, i, op, v, d, keys in rows])
    return session.connection().scalar(sa.select(sa.func.max(FeedRow.seq)))


def _write_and_commit(session, stale: dict, rows, at) -> int:
    """The lock, the deletes, the insert and the COMMIT sent to PostgreSQL at once (a
    psycopg pipeline). The server runs them one after another, each seeing what
    committed before the lock was granted, and releases the lock with the commit: it is
    held for the server's own work, not for a round trip back to this thread and another
    for the COMMIT. Under load this thread waits for its turn at a core between the two,
    and every other writer waits for the lock (at fifty phones, the wait after the rows
    were written was 5 ms at the median, 38 ms at p95, for each of 500 commits in a row).
    SQLAlchemy's commit then finds no transaction open and sends nothing (psycopg's
    commit does nothing on an idle connection). A batch of ``bulk.COPY_FROM`` rows or
    more goes by COPY after the pipeline: two round trips more, for a load of half the
    time."""
    connection = session.connection().connection.driver_connection
    at = as_text(at)  # once, not once a row by COPY's own isoformat()
    values = [(k, i, op, v, None if d is None else orjson.dumps(d).decode(),
               audience_text(keys), at) for k, i, op, v, d, keys in rows]
    by_copy = len(values) >= bulk.COPY_FROM
    newest = "SELECT max(seq) FROM changes"  # the head this commit will leave
    with connection.cursor() as head:
        with connection.pipeline(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (FEED_LOCK,))
            for kind, ids in stale.items():
                cursor.execute("DELETE FROM changes WHERE type = %s AND entity_id = ANY(%s)",
                               (kind, ids))
            if not by_copy:
                cursor.executemany(
                    "INSERT INTO changes (type, entity_id, op, version, data, audience, at) "
                    "VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s)", values)
                head.execute(newest)
                cursor.execute("COMMIT")
        if by_copy:
            bulk.copy(connection, "changes",
                      ("type", "entity_id", "op", "version", "data", "audience", "at"), values)
            with connection.pipeline():
                head.execute(newest)
                connection.execute("COMMIT")
        return head.fetchone()[0]


def _before_commit(session):
    if session.in_nested_transaction():  # a savepoint is released: wait for the real commit
        return
    session.flush()  # commit flushes after this hook: flush now to see every change
    session.info.pop(_HEAD, None)  # an earlier commit's: this one may write no rows
    pending = session.info.pop(_KEY, None)
    if pending is None or not pending.touched:
        return
    new = pending.new
    # A savepoint rolled back (a rejected mutation) leaves records that never existed.
    records = [r for r in pending.touched.values()
               if id(r) in pending.bulk or sa.inspect(r).persistent]
    seen = {(TYPES[type(r)], r.id) for r in records}
    for record in _dependents(session, records):
        if (TYPES[type(record)], record.id) not in seen:
            seen.add((TYPES[type(record)], record.id))
            records.append(record)
    rows = _plan_rows(session, records, new)
    if rows:  # the feed's rows last: on PostgreSQL they go with the COMMIT itself
        session.info[_HEAD] = _write(session, rows, {r.id for r in records if id(r) in new})


def _after_soft_rollback(session, previous_transaction):
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(_KEY, None)
        session.info.pop(_HEAD, None)


def written_head(session) -> int | None:
    """The feed's newest position once the last commit's rows were written, or None when
    it wrote none. Read under the feed's lock just before the commit, it is the head
    right after the commit too: no other writer adds a row in between. A push answers
    with it instead of asking the database again after its commit (three round trips:
    BEGIN, the query, ROLLBACK)."""
    return session.info.pop(_HEAD, None)


def init_app(session_target):
    """Listen on the session class of ``session_target`` (the app's ``db.session``)."""
    if not event.contains(session_target, "before_flush", _before_flush):
        event.listen(session_target, "before_flush", _before_flush)
        event.listen(session_target, "before_commit", _before_commit)
        event.listen(session_target, "after_soft_rollback", _after_soft_rollback)
