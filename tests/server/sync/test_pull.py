"""Pull: the change feed in commit order, paged, with deletes for what leaves one's view."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from server.extensions import db
from server.models import Check, Plan
from server.sync import feed, pull
from server.sync.bulk import COPY_FROM
from server.visibility import user_keys
from tests.server.sync.conftest import mutation, new_check


def test_first_pull_brings_the_registry(phone, make):
    site = make.site(name="陈庄危桥")
    held = phone(make.user("inspector")).state()
    types = {kind for kind, _id in held}
    assert {"unit", "site", "category"} <= types
    assert held[("site", str(site.id))]["name"] == "陈庄危桥"
    assert len([k for k in held if k[0] == "category"]) == 11


def test_paging_follows_more_until_done(phone, make):
    user, site = make.user("inspector"), make.site()
    p = phone(user)
    p.push(*[new_check(site) for _ in range(25)])
    pages, cursor = [], None
    while True:
        body = p.pull_page(cursor, limit=7).json
        pages.append(len(body["changes"]))
        cursor = body["cursor"]
        if not body["more"]:
            break
    total = sum(pages)
    assert all(n == 7 for n in pages[:-1]) and total >= 25 + 11 + 2
    assert p.pull_page(cursor).json == {"changes": [], "cursor": cursor, "more": False}


def test_changes_arrive_once_in_commit_order_with_latest_state(phone, make):
    user, site = make.user("inspector"), make.site()
    p = phone(user)
    p.pull()
    first, second = new_check(site), new_check(site)
    p.push(first)
    p.push(second)
    p.push_one(mutation("check", first["entity_id"], {"notes": "补充"}, base_version=1))
    changes = p.pull()
    assert [c["entity_id"] for c in changes] == [second["entity_id"], first["entity_id"]]
    assert changes[1]["version"] == 2 and changes[1]["data"]["notes"].endswith("补充")


def test_delete_arrives_as_delete(phone, make):
    user, site = make.user("supervisor"), make.site()
    p, m = phone(user), new_check(site)
    p.push_one(m)
    p.pull()
    p.push_one(mutation("check", m["entity_id"], op="delete", base_version=1))
    changes = p.pull()
    assert [(c["op"], c["entity_id"], c["data"]) for c in changes] == [
        ("delete", m["entity_id"], None)]


def test_supervisor_removed_from_a_plan_gets_a_delete(phone, make):
    sup, site = make.user("supervisor"), make.site()
    plan = make.plan([site], [sup])
    p = phone(sup)
    assert ("plan", str(plan.id)) in p.state()
    plan.assignees = []
    db.session.commit()
    changes = p.pull()
    assert [(c["type"], c["op"]) for c in changes] == [("plan", "delete")]
    assert ("plan", str(plan.id)) not in p.state()


def test_a_delete_still_owed_survives_a_later_change_of_the_record(phone, make):
    """A published finding moves from unit A to unit B and is edited again before A's
    contact pulls: A still receives the delete and keeps nothing of B's finding."""
    unit_a, unit_b = make.unit(), make.unit()
    check = make.check(make.user("inspector"), make.site(unit_a))
    finding = make.finding(check, published=True)
    contact_a = phone(make.user("unit", unit=unit_a))
    assert ("finding", str(finding.id)) in contact_a.state()
    reviewer = phone(make.user("reviewer"))
    assert reviewer.push_one(mutation("finding", finding.id, {"unit_id": str(unit_b.id)},
                                      base_version=1))["status"] == "applied"
    assert reviewer.push_one(mutation("finding", finding.id, {"description": "已改写"},
                                      base_version=2))["status"] == "applied"
    changes = contact_a.pull()
    assert [(c["type"], c["entity_id"], c["op"]) for c in changes] == [
        ("finding", str(finding.id), "delete")]
    contact_b = phone(make.user("unit", unit=unit_b))
    assert contact_b.state()["finding", str(finding.id)]["description"] == "已改写"


def test_a_plan_taken_away_then_edited_still_reaches_its_former_assignee_as_a_delete(
        phone, make):
    sup, other, site = make.user("supervisor"), make.user("supervisor"), make.site()
    plan = make.plan([site], [sup])
    p = phone(sup)
    assert ("plan", str(plan.id)) in p.state()
    plan.assignees = [other]
    db.session.commit()
    plan.title = "十二月暗访"
    db.session.commit()
    assert [(c["type"], c["op"]) for c in p.pull()] == [("plan", "delete")]


def test_publishing_a_finding_brings_it_its_accepted_evidence_and_its_case_to_the_unit(
        phone, make):
    office = make.unit(name="行政审批科")
    check = make.check(make.user("supervisor"), make.site(office))
    finding = make.finding(check)
    evidence = make.evidence(check, finding)
    evidence.review_state = "accepted"
    make.evidence(check, finding)  # not accepted (yet): the unit never sees it
    contact = phone(make.user("unit", unit=office))
    before = contact.state()
    assert not any(kind in ("finding", "evidence", "check", "plan") for kind, _ in before)
    finding.published_at = datetime.now(UTC)
    case = make.case(finding)
    db.session.commit()
    arrived = {(c["type"], c["entity_id"]) for c in contact.pull()}
    assert arrived == {("finding", str(finding.id)), ("evidence", str(evidence.id)),
                       ("case", str(case.id))}


@pytest.mark.parametrize("size", [1, COPY_FROM])  # rows inserted, or loaded by COPY
def test_cursor_of_a_push_is_the_feed_head(phone, make, size):
    """The push answers with the head of the feed after it: nothing of the push comes
    again from it, nothing later is skipped; so too for a push that changed nothing."""
    user, site = make.user("inspector"), make.site()
    p, other = phone(user), phone(make.user("supervisor"))
    batch = [new_check(site) for _ in range(size)]
    cursor = p.push(*batch)["cursor"]
    assert p.pull_page(cursor).json["changes"] == []
    later = new_check(site)
    again = p.push(*batch)  # all duplicates: no feed rows written
    assert {r["status"] for r in again["results"]} == {"duplicate"}
    assert again["cursor"] == cursor
    other.push(later)
    assert [c["entity_id"] for c in p.pull_page(cursor).json["changes"]] == [
        later["entity_id"]]


def test_plans_created_on_the_server_reach_their_assignees(phone, make):
    sup, site = make.user("supervisor"), make.site()
    p = phone(sup)
    p.pull()
    plan = make.plan([site], [sup])
    changes = p.pull()
    assert [(c["type"], c["entity_id"]) for c in changes] == [("plan", str(plan.id))]
    assert changes[0]["data"]["site_ids"] == [str(site.id)]
    assert changes[0]["data"]["assignee_ids"] == [str(sup.id)]
    assert db.session.get(Plan, plan.id).mode == "covert"


def test_check_pulled_back_equals_the_server_record(phone, make):
    user, site = make.user("supervisor"), make.site()
    p, m = phone(user), new_check(site, location={"lat": 34.26, "lon": 117.19,
                                                  "accuracy_m": 8})
    p.push_one(m)
    data = p.state()[("check", m["entity_id"])]
    check = db.session.get(Check, uuid.UUID(m["entity_id"]))
    assert data["location"] == {"lat": 34.26, "lon": 117.19, "accuracy_m": 8.0}
    assert data["created_by"] == str(user.id) and data["version"] == check.version


@pytest.mark.parametrize("backend", ["postgresql"])  # SQLite has no statistics to mislead it
def test_a_page_walks_the_feed_in_order_instead_of_sorting_all_of_it(phone, make):
    """A phone pulling a long feed from the start costs one page per page, not the whole
    remaining feed each time: the plan reads the seq index in order and stops at the page."""
    user, site = make.user("compiler"), make.site()
    inspector = phone(make.user("inspector"))
    for _ in range(3):
        inspector.push(*[new_check(site) for _ in range(200)])
    assert len(phone(user).pull_page(limit=50).json["changes"]) == 50
    # The query the pull sends to psycopg, with the compiler's keys, as it sends them.
    keys = user_keys(user)
    statement, fixed = pull._psycopg_page(len(keys))
    parameters = fixed | pull.page_parameters(keys, after=0, limit=51)
    with db.engine.connect() as connection, \
            connection.connection.driver_connection.cursor() as cursor:
        [(plan,)] = cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters).fetchall()
    top = plan[0]["Plan"]
    assert top["Node Type"] == "Limit"
    assert top["Plans"][0]["Node Type"] == "Index Scan", top


def test_the_head_a_commit_wrote_is_not_kept_for_a_later_commit(make):
    """A commit that writes no feed rows has no head of its own: a push answering after
    it asks the database, and never gives an earlier commit's position."""
    make.check(make.user("inspector"), make.site())
    db.session.commit()
    assert feed.written_head(db.session) is None


def test_a_pull_holds_no_transaction_and_a_push_after_it_commits_as_one(
        app, phone, make, backend):
    """On PostgreSQL a pull's statements run without BEGIN and ROLLBACK around them (two
    round trips of a page's four); the connection goes back to the pool as it came, so
    the push after it is one transaction again. A device's last-seen stamp still commits."""
    from flask import request

    from server.models import Device

    in_autocommit = {}

    @app.after_request
    def note(response):
        driver = db.session.connection().connection.driver_connection
        in_autocommit[request.endpoint] = getattr(driver, "autocommit", None)
        return response

    user, site = make.user("inspector"), make.site()
    p = phone(user)
    device = db.session.get(Device, uuid.UUID(p.device_id))
    device.last_seen_at = datetime(2026, 1, 5, tzinfo=UTC)
    db.session.commit()
    assert len(p.pull()) >= 11
    db.session.expire_all()
    seen = db.session.get(Device, device.id).last_seen_at
    assert datetime.now(UTC) - seen < timedelta(minutes=5)  # stamped by the pull
    p.push(new_check(site))
    if backend == "postgresql":
        assert (in_autocommit["sync.pull"], in_autocommit["sync.push"]) == (True, False)
