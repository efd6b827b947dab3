"""The reference client's outbox, push results, pull and rebase, against the real server.

Offline behaviour (what the phone does before it has a network) runs without a server;
everything that needs an answer gets it from ``live_server``, over real HTTP.
"""

import uuid

import pydantic
import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import AppliedMutation, Check
from sync import outbox
from sync.store import Store, dumps
from tests.sync.conftest import RecordingTransport


def _check(site_id: str, notes: str = "上下班签到检查") -> dict:
    return {"site_id": site_id, "mode": "covert", "started_at": "2026-11-30T09:12:03+08:00",
            "notes": notes}


def _held(check_id: str) -> Check:
    """The server's row, read afresh (the requests committed in other threads)."""
    db.session.rollback()
    return db.session.get(Check, uuid.UUID(check_id))


# --- offline: no server --------------------------------------------------------------------


def test_local_create_shows_at_once_and_queues_a_create(offline_phone):
    client, data = offline_phone(), _check(str(uuid.uuid4()))
    check_id = client.upsert("check", data=data)
    assert uuid.UUID(check_id).version == 4
    assert client.record("check", check_id).data["notes"] == "上下班签到检查"
    [queued] = client.store.outbox()
    assert queued["base_version"] is None and queued["op"] == "upsert"
    assert queued["data"] == data


def test_invalid_or_read_only_changes_are_refused_offline(offline_phone):
    client = offline_phone()
    with pytest.raises(pydantic.ValidationError):
        client.upsert("check", data={"mode": "sideways"})
    with pytest.raises(ValueError, match="read-only"):
        client.upsert("site", data={"name": "x"})
    assert client.store.outbox_size() == 0


def test_next_batch_stops_at_the_byte_limit_and_sets_aside_larger_mutations(offline_phone):
    client = offline_phone()
    for n in range(4):
        client.upsert("check", data=_check(str(uuid.uuid4()), f"第{n}次" * 50))
    cost = len(dumps(outbox.wire(client.store.outbox()[0]))) + 1
    batch, too_large = outbox.next_batch(client.store, 500, outbox.ENVELOPE_BYTES + 2 * cost)
    assert len(batch) == 2 and too_large == []
    batch, too_large = outbox.next_batch(client.store, 500, cost)
    assert batch == [] and len(too_large) == 4


def test_a_mutation_larger_than_any_push_is_rejected_without_sending(offline_phone):
    client = offline_phone()  # unplugged: any request would fail the test
    client.upsert("check", data=_check(str(uuid.uuid4())))
    client.max_bytes = 300
    assert client.push() == {"rejected": 1}
    assert client.store.rejections()[0]["error"]["status"] == 413
    assert client.records("check") == [] and client.store.outbox_size() == 0


def test_older_change_does_not_replace_a_newer_version(offline_phone):
    # The server's feed keeps one row per record, so a pull never brings an older version
    # than the last one; the client still guards against it (a push result may be newer
    # than a page read just before it), and this is the guard alone.
    store = offline_phone().store
    check_id = str(uuid.uuid4())
    with store.transaction():
        store.set_server_state("check", check_id, 5, {"notes": "当前"})
        assert store.apply_pulled([("check", check_id, "upsert", 4, {"notes": "陈旧"})]) == 0
    assert store.record("check", check_id).data["notes"] == "当前"


def test_a_pulled_page_keeps_local_edits_on_top_and_a_deleted_record_its_last_state(
        offline_phone):
    client = offline_phone()
    store = client.store
    edited, gone, new = (str(uuid.uuid4()) for _ in range(3))
    with store.transaction():
        store.set_server_state("check", edited, 2, {"notes": "旧", "mode": "open"})
        store.set_server_state("check", gone, 3, {"notes": "将删除"})
    client.upsert("check", edited, {"notes": "手机上改的"})
    with store.transaction():
        taken = store.apply_pulled([
            ("check", edited, "upsert", 3, {"notes": "服务器的", "mode": "covert"}),
            ("check", gone, "delete", 4, None),
            ("check", new, "upsert", 1, {"notes": "先"}),
            ("check", new, "upsert", 2, {"notes": "后"}),  # the later row of a page wins
        ])
    assert taken == 4
    mine = store.record("check", edited)
    assert (mine.version, mine.data) == (3, {"notes": "手机上改的", "mode": "covert"})
    assert store.server_state("check", edited) == (3, {"notes": "服务器的", "mode": "covert"},
                                                   False)
    deleted = store.record("check", gone)
    assert deleted.deleted and (deleted.version, deleted.data) == (4, {"notes": "将删除"})
    assert store.server_state("check", gone) == (4, {"notes": "将删除"}, True)
    assert store.record("check", new).data == {"notes": "后"}
    assert [r.entity_id for r in client.records("check")] == [edited, new]


# --- against the real server ---------------------------------------------------------------


def test_push_records_the_servers_version_and_the_next_edit_is_made_on_it(open_phone, field):
    client = open_phone(field.username)
    check_id = client.upsert("check", data=_check(field.site_id))
    assert client.push() == {"applied": 1}
    assert client.store.outbox_size() == 0
    version = client.record("check", check_id).version
    assert version == _held(check_id).version
    db.session.rollback()
    client.upsert("check", check_id, {"notes": "上下班签到检查\n三人未签到"})
    assert client.store.outbox()[0]["base_version"] == version
    assert client.push() == {"applied": 1}
    held = _held(check_id)
    assert held.notes.endswith("三人未签到") and held.version > version


def test_edits_on_top_of_unpushed_ones_wait_for_their_version(open_phone, field):
    network = RecordingTransport()
    client = open_phone(field.username, transport=network)
    check_id = client.upsert("check", data=_check(field.site_id))
    client.upsert("check", check_id, {"notes": "第二行"})
    client.upsert("check", check_id, {"ended_at": "2026-11-30T09:40:00+08:00"})
    other = client.upsert("check", data=_check(field.site_id))
    assert client.push() == {"applied": 4}
    # One mutation of a record per batch: the next one needs the version it produces.
    assert [len(ids) for ids in network.pushes] == [2, 1, 1]
    held = _held(check_id)
    assert held.ended_at is not None and held.notes == "上下班签到检查\n第二行"
    db.session.rollback()
    assert client.record("check", other).version is not None


def test_push_sends_at_most_max_mutations_a_request(open_phone, field):
    network = RecordingTransport()
    client = open_phone(field.username, transport=network)
    for n in range(7):
        client.upsert("check", data=_check(field.site_id, f"第{n}次" * 50))
    client.max_mutations = 3
    assert client.push() == {"applied": 7}
    assert [len(ids) for ids in network.pushes] == [3, 3, 1]
    assert client.store.outbox_size() == 0


def test_kill_while_recording_results_loses_nothing_and_applies_once(open_phone, field,
                                                                     monkeypatch):
    client = open_phone(field.username)
    ids = [client.upsert("check", data=_check(field.site_id)) for _ in range(3)]

    calls = []
    real = outbox._applied

    def applied_then_die(store, mutation, result):
        calls.append(mutation["id"])
        if len(calls) == 2:
            raise KeyboardInterrupt("battery died")
        real(store, mutation, result)

    monkeypatch.setattr(outbox, "_applied", applied_then_die)
    with pytest.raises(KeyboardInterrupt):
        client.push()
    client.close()
    monkeypatch.setattr(outbox, "_applied", real)
    again = open_phone(field.username)  # the same file, reopened after the crash
    assert again.store.outbox_size() == 3
    assert again.push() == {"duplicate": 3}
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AppliedMutation)) == 3
    assert {str(i) for i in db.session.scalars(sa.select(Check.id))} == set(ids)
    db.session.rollback()
    assert all(again.record("check", i).version for i in ids)


def test_kill_during_a_pull_page_keeps_cursor_and_records_together(open_phone, make,
                                                                   monkeypatch):
    unit = make.unit()
    for n in range(5):
        make.site(unit, name=f"工地{n}")
    username = make.user("inspector").username
    client = open_phone(username)
    client.page_size = 3
    real, calls = Store.apply_pulled, []

    def die_after_writing_the_second_page(self, changes):
        calls.append(changes)
        taken = real(self, changes)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        return taken

    monkeypatch.setattr(Store, "apply_pulled", die_after_writing_the_second_page)
    with pytest.raises(KeyboardInterrupt):
        client.pull()
    client.close()
    monkeypatch.setattr(Store, "apply_pulled", real)
    again = open_phone(username)
    assert again.store.get("cursor") is not None and len(again.records()) == 3
    pulled = again.pull()
    assert pulled == len(again.records()) - 3
    assert sorted(r.data["name"] for r in again.records("site")) == [f"工地{n}"
                                                                     for n in range(5)]
    fresh = open_phone(username, "fresh")
    fresh.pull()
    assert again.records() == fresh.records()


def test_pull_keeps_pending_local_edits_on_top_of_newer_server_state(open_phone, field):
    client = open_phone(field.username)
    check_id = client.upsert("check", data=_check(field.site_id))
    client.push()
    client.upsert("check", check_id, {"ended_at": "2026-11-30T10:00:00+08:00"})
    colleague = open_phone(field.username, "b")  # the same inspector's other phone
    colleague.pull()
    colleague.upsert("check", check_id, {"mode": "open"})
    assert colleague.push() == {"applied": 1}
    client.pull()
    record = client.record("check", check_id)
    assert record.data["mode"] == "open" and record.data["ended_at"].startswith("2026")
    assert record.version == _held(check_id).version


def test_push_cursor_never_moves_the_pull_cursor(open_phone, field):
    client = open_phone(field.username)
    client.upsert("check", data=_check(field.site_id))
    client.push()
    assert client.store.get("push_cursor") and client.store.get("cursor") is None
    client.pull()
    assert [r.data["name"] for r in client.records("site")] == ["纺织东路工地"]


def test_conflict_keeps_the_server_record_lists_the_change_and_keeps_the_notes(
        open_phone, field):
    client = open_phone(field.username)
    check_id = client.upsert("check", data=_check(field.site_id))
    client.push()
    colleague = open_phone(field.username, "b")
    colleague.pull()
    colleague.upsert("check", check_id, {"ended_at": "2026-11-30T09:50:00+08:00"})
    assert colleague.push() == {"applied": 1}
    client.upsert("check", check_id, {"mode": "open"})
    client.upsert("check", check_id, {"notes": "在冲突之上"})
    assert client.push() == {"conflict": 1, "applied": 1}
    record = client.record("check", check_id)
    assert record.data["mode"] == "covert" and record.data["ended_at"] is not None
    assert [c["data"] for c in client.store.conflicts()] == [{"mode": "open"},
                                                           {"notes": "在冲突之上"}]
    assert client.store.outbox_size() == 0
    held = _held(check_id)
    assert held.notes.endswith("在冲突之上") and held.mode == "covert"  # the line arrived
    assert record.version <= held.version


def test_rejected_create_is_listed_with_the_servers_reason_and_forgotten(open_phone, field):
    client = open_phone(field.username)
    check_id = client.upsert("check", data=_check(field.site_id))
    finding = client.upsert("finding", data={"check_id": check_id,
                                             "category_id": str(uuid.uuid4())})
    assert client.push() == {"applied": 1, "rejected": 1}
    [rejection] = client.store.rejections()
    assert rejection["entity_id"] == finding and rejection["error"]["status"] == 422
    assert "category_id" in rejection["error"]["detail"]
    assert client.record("finding", finding) is None


def test_delete_is_queued_and_leaves_a_tombstone_on_the_server(open_phone, field):
    client = open_phone(field.username)
    check_id = client.upsert("check", data=_check(field.site_id))
    client.push()
    client.delete("check", check_id)
    assert client.records("check") == []
    client.sync()
    assert _held(check_id).deleted_at is not None
    db.session.rollback()
    assert client.record("check", check_id).deleted
