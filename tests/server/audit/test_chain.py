"""The audit chain: every change recorded, and any edit, deletion or insertion found."""

import threading

import pytest
import sqlalchemy as sa

from server.audit.chain import record
from server.extensions import db
from server.models import AuditEvent
from tests.conftest import PASSWORD


def _events(n, actor=None):
    for i in range(n):
        record("test_event", actor=actor, subject_type="case", subject_id=f"c{i}",
               detail={"i": i, "note": "上班时间离岗"})
    db.session.commit()


def _verify(runner):
    return runner.invoke(args=["audit", "verify"])


def test_events_form_one_chain_and_verify_passes(app, runner, make):
    user = make.user("reviewer")
    _events(3, actor=user)
    _events(2)
    rows = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    test_rows = [r for r in rows if r.action == "test_event"]
    assert len(test_rows) == 5
    assert [r.id for r in rows] == list(range(1, len(rows) + 1))
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert f"intact: {len(rows)} events" in result.output
    assert rows[-1].hash in result.output


def test_a_rolled_back_change_leaves_no_event(app):
    record("test_event", subject_type="case", subject_id="x")
    db.session.rollback()
    _events(1)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 1


def _tamper(sql, **params):
    db.session.execute(sa.text(sql), params)
    db.session.commit()


@pytest.mark.parametrize("how, bad", [
    ("UPDATE audit_events SET detail = :v WHERE id = 3", 3),
    ("UPDATE audit_events SET actor_id = NULL, action = 'other' WHERE id = 2", 2),
    ("DELETE FROM audit_events WHERE id = 3", 3),
    ("DELETE FROM audit_events WHERE id = 5", 5),
    ("UPDATE audit_events SET id = 9 WHERE id = 5", 5),
])
def test_verify_names_the_first_bad_event(app, runner, how, bad):
    _events(5)
    _tamper(how, v='{"i": 99}')
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"event {bad}" in result.output


def test_an_event_inserted_with_a_correct_looking_hash_is_found(app, runner):
    """Whoever inserts an event in the middle must rewrite every hash after it; whoever
    appends one at the end must also move the head."""
    from server.audit.chain import body_of, link

    _events(3)
    last = db.session.scalar(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    values = {"at": last.at, "actor_id": None, "action": "forged", "subject_type": "case",
              "subject_id": "c9", "detail": {}}
    forged = link(last.hash, body_of(4, values))
    db.session.add(AuditEvent(id=4, prev_hash=last.hash, hash=forged, **values))
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert "event 4" in result.output


def test_signing_in_and_user_changes_are_recorded(app, client, make, runner):
    user = make.user("inspector", username="wang")
    client.post("/api/v1/auth/device", json={"username": "wang", "password": "wrong-one!",
                                            "device_name": "p"})
    client.post("/api/v1/auth/device", json={"username": "wang", "password": PASSWORD,
                                            "device_name": "p"})
    assert runner.invoke(args=["user", "disable", "wang"]).exit_code == 0
    actions = db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.subject_id == str(user.id)).order_by(AuditEvent.id)).all()
    assert actions == ["user_created", "sign_in_failed", "sign_in", "device_signed_in",
                       "user_disabled", "devices_revoked"]
    assert _verify(runner).exit_code == 0


def test_concurrent_appends_stay_one_chain(app, runner):
    errors = []
    barrier = threading.Barrier(8)

    def append():
        try:
            with app.app_context():
                barrier.wait()
                for _ in range(10):
                    _events(3)
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=append) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert "intact: 240 events" in result.output
