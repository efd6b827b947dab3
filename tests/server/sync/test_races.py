"""Races made deterministic: a transaction is held open at its COMMIT while another
runs, so what the locks and checks guarantee is seen every time, not by luck of timing."""

import threading
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import event

from server.extensions import db
from server.models import AppliedMutation, Check
from tests.server.sync.conftest import new_check

_held = threading.local()


@pytest.fixture
def hold_commit(app):
    """``hold_commit()`` makes the calling thread's next COMMIT wait until ``release``;
    returns (paused, release) events."""
    paused, release = threading.Event(), threading.Event()

    def wait_at_commit(_connection):
        if getattr(_held, "on", False):
            _held.on = False
            paused.set()
            release.wait(30)

    event.listen(db.engine, "commit", wait_at_commit)

    def arm():
        _held.on = True

    yield arm, paused, release
    release.set()
    event.remove(db.engine, "commit", wait_at_commit)


def _in_thread(target) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_a_change_committed_late_is_never_skipped_by_a_reader(app, make, phone, hold_commit):
    """A's change is written to the feed first but commits last; B's commits meanwhile.
    Without the feed's lock the reader pulls B, its cursor passes A, and A is lost."""
    arm, paused, release = hold_commit
    site_id, author = make.site().id, make.user("inspector").id
    reader = phone(make.user("compiler"))
    reader.pull()
    made = []

    def write(hold: bool):
        if hold:
            arm()
        with app.app_context():
            check = Check(site_id=site_id, mode="open", started_at=datetime.now(UTC),
                          created_by=author)
            db.session.add(check)
            db.session.commit()
            made.append(str(check.id))
            db.session.remove()

    first = _in_thread(lambda: write(True))
    assert paused.wait(10)
    second = _in_thread(lambda: write(False))
    second.join(1.0)
    seen = [c["entity_id"] for c in reader.pull() if c["type"] == "check"]
    release.set()
    first.join(30), second.join(30)
    seen += [c["entity_id"] for c in reader.pull() if c["type"] == "check"]
    assert len(made) == 2 and sorted(seen) == sorted(made)


def test_the_same_mutation_in_two_transactions_is_applied_once(app, client, make, phone,
                                                               hold_commit):
    """A phone's push and its retry overlap: the retry waits for the first to commit,
    then answers duplicate with the version the first produced."""
    arm, paused, release = hold_commit
    user, site = make.user("supervisor"), make.site()
    p = phone(user)
    done = new_check(site)
    assert p.push_one(done)["status"] == "applied"
    retried = new_check(site)
    # The retry's batch also holds a mutation applied before, so it goes one by one and
    # meets the first push in the middle of applying ``retried``.
    answers = {}

    def push(name, mutations, hold):
        if hold:
            arm()
        with app.app_context():  # a client of its own, in this thread
            answers[name] = app.test_client().post("/api/v1/sync/push", headers=p.headers,
                                                   json={"device_id": p.device_id,
                                                         "mutations": mutations}).json
            db.session.remove()

    first = _in_thread(lambda: push("first", [retried], True))
    assert paused.wait(10)
    second = _in_thread(lambda: push("retry", [done, retried], False))
    second.join(1.0)
    release.set()
    first.join(30), second.join(30)
    assert answers["first"]["results"][0]["status"] == "applied"
    assert [r["status"] for r in answers["retry"]["results"]] == ["duplicate", "duplicate"]
    assert answers["retry"]["results"][1]["version"] == answers["first"]["results"][0]["version"]
    db.session.rollback()  # a fresh snapshot
    assert db.session.scalar(db.select(db.func.count()).select_from(AppliedMutation).where(
        AppliedMutation.id == uuid.UUID(retried["id"]))) == 1


def test_cursors_are_signed_with_the_secret_key_and_no_other(app, make, phone):
    from sync import cursor

    p = phone(make.user("inspector"))
    p.pull()
    key = app.config["SECRET_KEY"].encode()
    assert cursor.decode(p.cursor, key) >= 1  # what the server hands out, under SECRET_KEY
    assert p.pull_page(cursor.encode(1, key)).status_code == 200
    assert p.pull_page(cursor.encode(1, b"not-this-server's-key")).status_code == 400
