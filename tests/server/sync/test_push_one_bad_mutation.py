"""One bad mutation never poisons a phone's outbox: it alone is rejected, with a reason,
and the rest of its batch is applied (never a 500, never a 422 for the whole push)."""

import pytest

from server.extensions import db
from server.models import Check
from tests.server.sync.conftest import mutation, new_check


@pytest.fixture
def setup(make, phone):
    user, site = make.user("supervisor"), make.site()
    return phone(user), site


def _applied_around(p, site, bad) -> dict:
    """Push a good check, the bad mutation and another good check; return the bad one's
    result after checking the good ones were applied."""
    first, last = new_check(site), new_check(site)
    results = p.push(first, bad, last)["results"]
    assert [results[0]["status"], results[2]["status"]] == ["applied", "applied"], results
    stored = {str(i) for i in db.session.scalars(db.select(Check.id))}
    assert {first["entity_id"], last["entity_id"]} <= stored
    assert bad["entity_id"] not in stored
    return results[1]


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_time_outside_what_a_database_stores_rejects_that_mutation(setup, when):
    p, site = setup
    result = _applied_around(p, site, new_check(site, started_at=when))
    assert result["status"] == "rejected" and result["error"]["status"] == 422
    assert [e["field"] for e in result["error"]["errors"]] == ["data.started_at"]


@pytest.mark.parametrize("field", ["notes", "description"])
def test_a_nul_character_in_text_rejects_that_mutation(setup, make, field):
    p, site = setup
    if field == "notes":
        bad = new_check(site, notes="签到表\x00已拍照")
    else:
        check = make.check(p.user, site)
        bad = mutation("finding", data={"check_id": str(check.id), "description": "离岗\x00",
                                        "category_id": str(make.category().id)})
    result = _applied_around(p, site, bad)
    assert result["status"] == "rejected" and result["error"]["status"] == 422
    assert result["error"]["errors"][0]["field"] == f"data.{field}"


def test_a_record_type_this_server_does_not_know_rejects_that_mutation(setup):
    p, site = setup
    result = _applied_around(p, site, mutation("meeting", data={"topic": "周例会"}))
    assert result["status"] == "rejected" and result["error"]["status"] == 422
    assert "meeting" in result["error"]["detail"]


def test_an_op_this_server_does_not_know_rejects_that_mutation(setup):
    p, site = setup
    result = _applied_around(p, site, new_check(site) | {"op": "merge"})
    assert result["status"] == "rejected" and result["error"]["errors"][0]["field"] == "op"


def test_the_rejected_mutation_is_answered_the_same_when_sent_again(setup):
    p, site = setup
    bad = mutation("meeting")
    assert p.push_one(bad)["status"] == "rejected"
    assert p.push_one(bad)["status"] == "rejected"  # not remembered: nothing was applied
