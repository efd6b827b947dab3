"""The embedded SQLite default behaves like a small server database.

WAL lets readers work while one writer writes. A request that may write (any method but
GET, HEAD and OPTIONS) begins IMMEDIATE, so two writers queue for the lock (waiting up to
busy_timeout) instead of one failing when it upgrades a read to a write; everything else
begins deferred and only reads. A rare clash left over answers 503 with Retry-After (see
``server.errors``). Foreign keys are enforced, as PostgreSQL enforces them.
"""

from flask import has_request_context, request
from sqlalchemy import event

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def configure(engine):
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        writes = has_request_context() and request.method not in SAFE_METHODS
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def is_busy(exc: Exception) -> bool:
    """SQLite's "database is locked": a writer clash the client should retry."""
    return "database is locked" in str(getattr(exc, "orig", exc))
