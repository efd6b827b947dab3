"""Bad input to push and pull: a clear 4xx or a rejected result, and nothing changes."""

import base64

import pytest

from server.extensions import db
from server.models import AppliedMutation, Check, FeedRow
from tests.server.sync.conftest import mutation, new_check


def _nothing_changed(before_changes):
    assert db.session.scalar(db.select(db.func.count()).select_from(Check)) == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(AppliedMutation)) == 0
    assert db.session.scalar(db.select(db.func.max(FeedRow.seq))) == before_changes


@pytest.fixture
def setup(make, phone):
    user, site = make.user("supervisor"), make.site()
    head = db.session.scalar(db.select(db.func.max(FeedRow.seq)))
    return phone(user), site, head


@pytest.mark.parametrize("bad", [
    {"entity_id": "not-a-uuid"},
    {"id": 42},
    {"base_version": 0},
    {"base_version": "one"},
    {"base_version": 10**30},                         # beyond any version a server gives
    {"data": ["a", "list"]},
    {"surprise": True},                               # unknown field
])
def test_malformed_mutation_is_a_422_listing_the_field(setup, bad):
    p, site, head = setup
    body = {"device_id": p.device_id, "mutations": [new_check(site) | bad]}
    response = p.client.post("/api/v1/sync/push", headers=p.headers, json=body)
    assert response.status_code == 422
    assert response.json["errors"] and all(e["field"].startswith("mutations.0")
                                           for e in response.json["errors"])
    _nothing_changed(head)


@pytest.mark.parametrize("data, field", [
    ({"mode": "secret"}, "data.mode"),
    ({"started_at": "yesterday"}, "data.started_at"),
    ({"started_at": "2026-11-30T09:00:00"}, "data.started_at"),   # no offset
    ({"location": {"lat": 91, "lon": 0}}, "data.location.lat"),
    ({"colour": "red"}, "data.colour"),
    ({"location": {"lat": 34.2, "lon": 117.1, "accuracy_m": float("nan")}},
     "data.location.accuracy_m"),
])
def test_invalid_record_fields_are_rejected_with_the_field(setup, data, field):
    p, site, head = setup
    result = p.push_one(new_check(site, **data))
    assert result["status"] == "rejected" and result["error"]["status"] == 422
    assert field in {e["field"] for e in result["error"]["errors"]}
    _nothing_changed(head)


def test_references_to_unknown_records_are_rejected(setup):
    p, site, head = setup
    result = p.push_one(new_check(site, site_id="00000000-0000-4000-8000-000000000000"))
    assert result["status"] == "rejected" and "site_id" in result["error"]["detail"]
    _nothing_changed(head)


def test_another_users_device_id_is_refused(setup, make, phone):
    p, site, head = setup
    other = phone(make.user("supervisor"))
    response = p.client.post("/api/v1/sync/push", headers=p.headers, json={
        "device_id": other.device_id, "mutations": [new_check(site)]})
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    _nothing_changed(head)


def test_more_than_500_mutations_is_413(setup):
    p, site, head = setup
    response = p.client.post("/api/v1/sync/push", headers=p.headers, json={
        "device_id": p.device_id, "mutations": [new_check(site) for _ in range(501)]})
    assert response.status_code == 413 and "500" in response.json["detail"]
    _nothing_changed(head)


def test_more_than_5_mib_is_413(setup):
    p, site, head = setup
    huge = new_check(site, notes="很长" * 1_000_000)
    response = p.client.post("/api/v1/sync/push", headers=p.headers,
                             json={"device_id": p.device_id, "mutations": [huge]})
    assert response.status_code == 413
    _nothing_changed(head)


def test_read_only_types_are_rejected(setup, make):
    p, site, head = setup
    for m in (mutation("site", site.id, {"name": "改名"}, base_version=1),
              mutation("plan", data={"title": "我的计划"})):
        result = p.push_one(m)
        assert result["status"] == "rejected" and result["error"]["status"] == 403
    _nothing_changed(head)


def test_update_with_base_version_of_a_record_that_does_not_exist(setup):
    p, _site, head = setup
    result = p.push_one(mutation("check", data={"notes": "x"}, base_version=3))
    assert result["status"] == "rejected" and result["error"]["status"] == 404
    _nothing_changed(head)


@pytest.mark.parametrize("cursor", ["garbage", "", "x" * 600,
                                    base64.urlsafe_b64encode(b"5.forgedsignature").decode()])
def test_forged_or_malformed_cursors_are_400(setup, cursor):
    p, _site, _head = setup
    response = p.pull_page(cursor or "=")
    assert response.status_code in (400, 422)
    assert response.mimetype == "application/problem+json"


def test_cursor_ahead_of_the_feed_is_400(setup, app):
    from sync import cursor

    p, _site, _head = setup
    ahead = cursor.encode(10**9, app.config["SECRET_KEY"].encode())
    response = p.client.get("/api/v1/sync/pull", headers=p.headers | {"Accept-Language": "en"},
                            query_string={"cursor": ahead})
    assert response.status_code == 400 and "cursor" in response.json["detail"].lower()


@pytest.mark.parametrize("limit", ["0", "1001", "many"])
def test_bad_limit_is_422(setup, limit):
    p, _site, _head = setup
    response = p.client.get("/api/v1/sync/pull", headers=p.headers,
                            query_string={"limit": limit})
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "limit"


def test_unknown_query_parameters_such_as_a_cache_buster_are_ignored(setup):
    p, _site, _head = setup
    response = p.client.get("/api/v1/sync/pull", headers=p.headers,
                            query_string={"_": "1764664800000", "since": "yesterday"})
    assert response.status_code == 200 and response.json["more"] is False


def test_numbers_too_large_to_store_are_refused_not_a_server_error(setup):
    """A size of 10^30 bytes, or a huge number in a field the server ignores: the
    mutation is refused or applied, never a 500."""
    p, site, head = setup
    check = new_check(site)
    huge = mutation("evidence", data={"check_id": check["entity_id"], "kind": "photo",
                                      "sha256": "ab" * 32, "size": 10**30})
    ignored = new_check(site, created_by=10**30)  # a server field: accepted and ignored
    results = p.push(check, huge, ignored)["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert {e["field"] for e in results[1]["error"]["errors"]} == {"data.size"}
    assert p.push(ignored)["results"][0]["status"] == "duplicate"


def test_an_empty_push_is_answered_with_no_results(setup):
    p, _site, head = setup
    assert p.push()["results"] == []
    _nothing_changed(head)
