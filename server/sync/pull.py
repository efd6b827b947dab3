"""Read the change feed for one user: changes after a cursor, in commit order."""

import orjson
import sqlalchemy as sa

from ..extensions import db
from ..models import Change
from ..sql import holds_word
from .audience import user_keys


def read_changes(user, after: int, limit: int) -> tuple[list[dict], int, bool]:
    """Up to ``limit`` changes the user may pull after ``after``: (changes, last seq, more)."""
    # Walk the feed in seq order, keeping the changes one of the user's keys opens.
    audience = sa.or_(*(holds_word(Change.audience, key) for key in user_keys(user)))
    # Core rows, not ORM ones; the stored JSON goes out as it is, never parsed and encoded
    # again; orjson writes the UUIDs.
    rows = db.session.connection().execute(
        sa.select(Change.seq, Change.type, Change.entity_id, Change.op, Change.version,
                  sa.cast(Change.data, sa.Text))
        .where(Change.seq > after, audience)
        .order_by(Change.seq).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    changes = [{"type": kind, "entity_id": entity_id, "op": op, "version": version,
                "data": orjson.Fragment(data) if data is not None else None}
               for _seq, kind, entity_id, op, version, data in rows]
    last = rows[-1][0] if rows else after
    return changes, last, more


def head() -> int:
    """The newest position of the feed."""
    return db.session.connection().scalar(
        sa.select(sa.func.coalesce(sa.func.max(Change.seq), 0)))
