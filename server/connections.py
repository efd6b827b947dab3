"""Pooled PostgreSQL connections are tested before use only when they sat idle.

SQLAlchemy's ``pool_pre_ping`` asks the database before every check-out: a round trip on
every request (a quarter of a millisecond here, a fortieth of a pull page), and under load
each round trip waits for a core. A connection handed back a moment ago is as good as
that test would say. One idle for longer may have been closed by a restart, a failover or
a firewall, and is tested first; a dead one is replaced before the request sees it. If
the database goes away within that moment, SQLAlchemy drops the pool when the request's
statement fails; the request answers 503 with Retry-After (``server.errors``) and the
next gets new connections.
"""

import time

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError

IDLE_BEFORE_PING = 1.0  # seconds a connection may sit in the pool and be used untested
_IDLE_SINCE = "idle since"  # in the pool record's info


def configure(engine):
    if engine.dialect.name == "sqlite":  # a file: nothing to lose between requests
        return

    @event.listens_for(engine.pool, "checkin")
    def _checkin(_dbapi_connection, record):
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _checkout(dbapi_connection, record, _proxy):
        since = record.info.pop(_IDLE_SINCE, None)  # none: connected just now
        if since is None or time.monotonic() - since < IDLE_BEFORE_PING:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool throws this connection away and checks out a new one.
            raise DisconnectionError(f"an idle connection was closed: {error}") from error
