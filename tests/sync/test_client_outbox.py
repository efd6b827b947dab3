"""The reference client's local file: outbox, push results, pull and rebase (no server)."""

import uuid

import pydantic
import pytest

from sync import outbox
from sync.store import Store, dumps

SITE = str(uuid.uuid4())
CHECK = {"site_id": SITE, "mode": "covert", "started_at": "2026-11-30T09:12:03+08:00",
         "notes": "上下班签到检查"}


def test_local_create_shows_at_once_and_queues_a_create(phone):
    client = phone()
    check_id = client.upsert("check", data=CHECK)
    assert uuid.UUID(check_id).version == 4
    assert client.record("check", check_id).data["notes"] == "上下班签到检查"
    [queued] = client.store.outbox()
    assert queued["base_version"] is None and queued["op"] == "upsert"
    assert queued["data"] == CHECK


def test_invalid_or_read_only_changes_are_refused_offline(phone):
    client = phone()
    with pytest.raises(pydantic.ValidationError):
        client.upsert("check", data={"mode": "sideways"})
    with pytest.raises(ValueError, match="read-only"):
        client.upsert("site", data={"name": "x"})
    assert client.store.outbox_size() == 0


def test_push_empties_the_outbox_and_records_the_version(phone, fake):
    client = phone()
    check_id = client.upsert("check", data=CHECK)
    assert client.push() == {"applied": 1}
    assert client.store.outbox_size() == 0
    assert client.record("check", check_id).version == fake.records[("check", check_id)][
        "version"]


def test_edit_of_a_pushed_record_carries_the_version_it_was_made_on(phone, fake):
    client = phone()
    check_id = client.upsert("check", data=CHECK)
    client.push()
    version = client.record("check", check_id).version
    client.upsert("check", check_id, {"notes": "上下班签到检查\n三人未签到"})
    assert client.store.outbox()[0]["base_version"] == version
    assert client.push() == {"applied": 1}
    assert fake.records[("check", check_id)]["data"]["notes"].endswith("三人未签到")


def test_edits_on_top_of_unpushed_ones_wait_for_their_version(phone, fake):
    client = phone()
    check_id = client.upsert("check", data=CHECK)
    client.upsert("check", check_id, {"notes": "第二行"})
    client.upsert("check", check_id, {"ended_at": "2026-11-30T09:40:00+08:00"})
    other = client.upsert("check", data=CHECK)
    assert client.push() == {"applied": 4}
    # One mutation of a record per batch: the next one needs the version it produces.
    assert [len(ids) for ids in fake.pushes] == [2, 1, 1]
    assert fake.records[("check", check_id)]["data"]["ended_at"].startswith("2026-11-30")
    assert client.record("check", other).version is not None


def test_batches_respect_the_count_and_size_limits(phone, fake):
    client = phone()
    for n in range(7):
        client.upsert("check", data=CHECK | {"notes": f"第{n}次" * 50})
    client.max_mutations = 3
    client.push()
    assert [len(ids) for ids in fake.pushes] == [3, 3, 1]
    assert client.store.outbox_size() == 0
    for n in range(4):
        client.upsert("check", data=CHECK | {"notes": f"第{n}次" * 50})
    cost = len(dumps(outbox.wire(client.store.outbox()[0]))) + 1
    batch, too_large = outbox.next_batch(client.store, 500, outbox.ENVELOPE_BYTES + 2 * cost)
    assert len(batch) == 2 and too_large == []
    batch, too_large = outbox.next_batch(client.store, 500, cost)
    assert batch == [] and len(too_large) == 4


def test_a_mutation_larger_than_any_push_is_rejected_locally(phone, fake):
    client = phone()
    client.upsert("check", data=CHECK)
    client.max_bytes = 300
    assert client.push() == {"rejected": 1}
    assert client.store.rejections()[0]["error"]["status"] == 413
    assert fake.pushes == [] and client.records("check") == []


def test_kill_while_recording_results_loses_nothing_and_applies_once(phone, fake, monkeypatch):
    client = phone()
    ids = [client.upsert("check", data=CHECK) for _ in range(3)]

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
    again = phone()  # the same file, reopened after the crash
    assert again.store.outbox_size() == 3
    assert again.push() == {"duplicate": 3}
    assert len(fake.applied) == 3 and {k[1] for k in fake.records} == set(ids)
    assert all(again.record("check", i).version for i in ids)


def test_kill_during_a_pull_page_keeps_cursor_and_records_together(phone, fake, monkeypatch):
    for n in range(5):
        fake.write("site", str(uuid.uuid4()), {"name": f"工地{n}"})
    client = phone()
    client.page_size = 3
    real, calls = Store.set_server_state, []

    def die_on_the_fifth(self, *args, **kwargs):
        calls.append(args)
        if len(calls) == 5:
            raise KeyboardInterrupt("killed")
        real(self, *args, **kwargs)

    monkeypatch.setattr(Store, "set_server_state", die_on_the_fifth)
    with pytest.raises(KeyboardInterrupt):
        client.pull()
    client.close()
    monkeypatch.setattr(Store, "set_server_state", real)
    again = phone()
    assert again.store.get("cursor") == "3" and len(again.records("site")) == 3
    assert again.pull() == 2
    assert len(again.records("site")) == 5


def test_pull_keeps_pending_local_edits_on_top_of_newer_server_state(phone, fake):
    client = phone()
    check_id = client.upsert("check", data=CHECK)
    client.push()
    client.upsert("check", check_id, {"ended_at": "2026-11-30T10:00:00+08:00"})
    fake.write("check", check_id, {"mode": "open"})  # a colleague's change, newer
    client.pull()
    record = client.record("check", check_id)
    assert record.data["mode"] == "open" and record.data["ended_at"].startswith("2026")
    assert record.version == fake.version


def test_older_pulled_change_does_not_replace_a_newer_version(phone, fake):
    client = phone()
    check_id = client.upsert("check", data=CHECK)
    client.push()
    fake.feed.append(dict(fake.feed[-1], version=0, data={"notes": "陈旧"}))
    client.pull()
    assert client.record("check", check_id).data["notes"] == "上下班签到检查"


def test_push_cursor_never_moves_the_pull_cursor(phone, fake):
    fake.write("site", str(uuid.uuid4()), {"name": "纺织东路工地"})
    client = phone()
    client.upsert("check", data=CHECK)
    client.push()
    assert client.store.get("push_cursor") == "2" and client.store.get("cursor") is None
    client.pull()
    assert [r.data["name"] for r in client.records("site")] == ["纺织东路工地"]


def test_conflict_keeps_the_server_record_and_lists_the_change(phone, fake):
    client = phone()
    check_id = client.upsert("check", data=CHECK)
    client.push()
    fake.write("check", check_id, {"notes": "组长改过"})
    client.upsert("check", check_id, {"mode": "open"})
    client.upsert("check", check_id, {"notes": "在冲突之上"})
    assert client.push() == {"conflict": 1}
    record = client.record("check", check_id)
    assert record.data["notes"] == "组长改过" and record.data["mode"] == "covert"
    assert [c["data"] for c in client.store.conflicts()] == [{"mode": "open"},
                                                           {"notes": "在冲突之上"}]
    assert client.store.outbox_size() == 0


def test_rejected_create_is_listed_and_forgotten_locally(phone, fake):
    client = phone()
    check_id = client.upsert("check", data=CHECK)
    finding = client.upsert("finding", data={"check_id": check_id, "description": "reject me"})
    assert client.push() == {"applied": 1, "rejected": 1}
    [rejection] = client.store.rejections()
    assert rejection["entity_id"] == finding and rejection["error"]["detail"] == "no"
    assert client.record("finding", finding) is None


def test_delete_is_queued_and_marks_the_record_deleted(phone, fake):
    client = phone()
    check_id = client.upsert("check", data=CHECK)
    client.push()
    client.delete("check", check_id)
    assert client.records("check") == []
    client.sync()
    assert fake.records[("check", check_id)]["deleted"]
    assert client.record("check", check_id).deleted
