"""Pooled connections the database closed (a restart, a failover) never reach a user as
a failure they cannot retry; connections in steady use are not tested before each use."""

import psycopg
import pytest

from server import connections
from server.extensions import db
from tests.conftest import ADMIN_URL


def _close_the_apps_connections():
    """What a restart of PostgreSQL does to the connections in the app's pool."""
    database = db.engine.url.database
    db.session.remove()
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        closed = admin.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000))"
            " FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,)).fetchone()[0]
    assert closed >= 1  # the pool held at least the connection of the last request


def _pull(client, headers):
    return client.get("/api/v1/sync/pull", headers=headers)


@pytest.mark.parametrize("backend", ["postgresql"])  # SQLite is a file: nothing to close
def test_a_connection_closed_while_idle_is_replaced_before_the_request_sees_it(
        client, make, token_for, monkeypatch):
    headers = token_for(make.user("inspector"))
    assert _pull(client, headers).status_code == 200
    _close_the_apps_connections()
    monkeypatch.setattr(connections, "IDLE_BEFORE_PING", 0.0)  # as if it sat a while
    answer = _pull(client, headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.json["changes"]


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_connection_closed_under_a_request_answers_503_and_the_next_request_works(
        client, make, token_for, monkeypatch):
    headers = token_for(make.user("inspector"))
    assert _pull(client, headers).status_code == 200
    monkeypatch.setattr(connections, "IDLE_BEFORE_PING", 3600.0)  # used just now: untested
    _close_the_apps_connections()
    answer = _pull(client, headers)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "1"
    assert answer.json["status"] == 503 and answer.json["title"] == "系统繁忙"
    assert "Traceback" not in answer.get_data(as_text=True)
    # SQLAlchemy renewed the pool: the next request connects afresh.
    assert _pull(client, headers).status_code == 200


def test_connections_in_steady_use_are_not_pinged(client, make, token_for, monkeypatch):
    """Back-to-back requests send only their own statements: no test query before each
    (a round trip per request that every phone waited for)."""
    headers = token_for(make.user("inspector"))
    assert _pull(client, headers).status_code == 200
    pings = []
    dialect = db.engine.dialect
    monkeypatch.setattr(dialect, "do_ping", lambda c: pings.append(c) or True)
    for _ in range(3):
        assert _pull(client, headers).status_code == 200
    assert pings == []
