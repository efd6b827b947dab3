"""The reference client against the real server over real HTTP, on SQLite and PostgreSQL."""

from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import Check, Finding
from sync import outbox
from sync.client import Client
from sync.errors import AuthError, SyncError
from sync.faults import FaultyTransport


def _count(model) -> int:
    db.session.rollback()  # see what the server's requests committed
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _check(site_id, notes="上下班签到检查") -> dict:
    return {"site_id": site_id, "mode": "covert", "notes": notes,
            "started_at": datetime.now(UTC).astimezone().isoformat(timespec="seconds")}


def test_login_push_pull_round_trip(open_phone, make):
    inspector, site = make.user("inspector"), make.site()
    phone = open_phone(inspector)
    assert phone.user["name"] == inspector.name
    phone.pull()
    categories = {r.data["code"]: r.entity_id for r in phone.records("category")}
    assert [r.entity_id for r in phone.records("site")] == [str(site.id)]
    check_id = phone.upsert("check", data=_check(str(site.id)))
    finding_id = phone.upsert("finding", data={
        "check_id": check_id, "category_id": categories["absent"],
        "description": "上班时间离岗，未履行外出报批手续"})
    pushed, _pulled = phone.sync()
    assert pushed == {"applied": 2} and phone.store.outbox_size() == 0
    finding = phone.record("finding", finding_id)
    assert finding.data["unit_id"] == str(site.unit_id)  # the server's default came back
    other = open_phone(inspector, "b")
    other.pull()
    assert other.record("check", check_id) == phone.record("check", check_id)


def test_appended_notes_from_two_phones_merge_and_come_back(open_phone, make):
    inspector, site = make.user("inspector"), make.site()
    phone = open_phone(inspector)
    check_id = phone.upsert("check", data=_check(str(site.id)))
    phone.sync()
    other = open_phone(inspector, "b")
    other.pull()
    # Both edit from the same version; notes are append-only, so neither conflicts.
    phone.upsert("check", check_id, {"notes": "上下班签到检查\n三人未签到"})
    other.upsert("check", check_id, {"notes": "上下班签到检查\n值班领导在岗"})
    assert phone.sync()[0] == {"applied": 1} and other.sync()[0] == {"applied": 1}
    phone.pull()
    assert phone.record("check", check_id).data["notes"] == \
        "上下班签到检查\n三人未签到\n值班领导在岗"


def test_push_retried_after_a_dropped_response_is_duplicate_and_applied_once(
        open_phone, make):
    inspector, site = make.user("inspector"), make.site()
    network = FaultyTransport(httpx.HTTPTransport())
    phone = open_phone(inspector, transport=network)
    phone.upsert("check", data=_check(str(site.id)))
    network.force("drop_response", "duplicate")
    assert phone.push() == {"duplicate": 1}
    assert network.counts["dropped_responses"] == 1 and network.counts["duplicated"] == 1
    assert _count(Check) == 1 and phone.store.outbox_size() == 0


def test_phone_killed_before_recording_results_pushes_again_and_server_holds_one(
        open_phone, make, monkeypatch):
    inspector, site = make.user("inspector"), make.site()
    phone = open_phone(inspector)
    check_id = phone.upsert("check", data=_check(str(site.id)))
    phone.upsert("finding", data={"check_id": check_id,
                                  "category_id": str(make.category().id)})

    def killed(*_args):
        raise KeyboardInterrupt("the phone was switched off")

    monkeypatch.setattr(outbox, "record_results", killed)
    with pytest.raises(KeyboardInterrupt):
        phone.push()
    phone.close()
    monkeypatch.undo()
    again = open_phone(inspector)  # the same file, after the restart
    assert again.store.outbox_size() == 2
    assert again.push() == {"duplicate": 2}
    assert _count(Check) == 1 and _count(Finding) == 1


def test_invalid_change_is_rejected_with_the_servers_reason(open_phone, make):
    inspector = make.user("inspector")
    phone = open_phone(inspector)
    phone.upsert("check", data={"mode": "open", "started_at": "2026-11-30T09:00:00+08:00"})
    assert phone.push() == {"rejected": 1}
    [rejection] = phone.store.rejections()
    assert rejection["error"]["status"] == 422 and "site_id" in rejection["error"]["detail"]
    assert phone.records("check") == []


def test_problem_documents_raise_at_once_with_the_servers_detail(open_phone, make):
    phone = open_phone(make.user("inspector"))
    with phone.store.transaction():
        phone.store.put("cursor", "not-a-cursor")
    with pytest.raises(SyncError) as error:
        phone.pull()
    assert error.value.status == 400 and "cursor" in error.value.detail
    assert phone.stats["retries"] == 0  # a 4xx is an answer, not a reason to retry
    phone.logout()
    with pytest.raises(AuthError):
        phone.pull()


def test_revoked_token_raises_auth_error_and_keeps_the_outbox(open_phone, make, live_server,
                                                              tmp_path):
    inspector, site = make.user("inspector"), make.site()
    phone = open_phone(inspector)
    token = phone.store.get("token")
    phone.upsert("check", data=_check(str(site.id)))
    httpx.delete(live_server + "/api/v1/auth/device",
                 headers={"Authorization": f"Bearer {token}"})
    with pytest.raises(AuthError) as error:
        phone.push()
    assert error.value.status == 401 and phone.store.outbox_size() == 1
    with Client(live_server, tmp_path / "new.db") as fresh, pytest.raises(AuthError):
        fresh.login(inspector.username, "wrong-password", "测试手机")
