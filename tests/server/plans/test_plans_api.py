"""Plans as JSON: made, changed and cancelled by planners; the assignees' phones take
them through pull, and lose them as deletes; units, reviewers and other supervisors
never pull them; bad input changes nothing."""

import uuid

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import AuditEvent, Plan
from tests.server.plans.conftest import plan_body
from tests.server.sync.conftest import new_check


def _plans(phone) -> dict:
    return {k[1]: v for k, v in phone.state().items() if k[0] == "plan"}


def _call(client, method, path, headers, json=None):
    return client.open(path, method=method, headers=headers, json=json)


def test_a_planner_makes_changes_and_cancels_and_phones_follow(app, client, bureau, phone,
                                                               token_for):
    lead = token_for(bureau.compiler)
    first, second = bureau.supervisors[0], bureau.supervisors[1]
    made = _call(client, "POST", "/api/v1/plans", lead, plan_body(bureau))
    assert made.status_code == 201, made.json
    plan_id = made.json["id"]
    assert made.json["site_ids"] == [str(bureau.sites[4].id)]
    first_phone, second_phone = phone(first), phone(second)
    assert plan_id in _plans(first_phone) and plan_id not in _plans(second_phone)

    moved = _call(client, "PATCH", f"/api/v1/plans/{plan_id}", lead,
                  {"assignee_ids": [str(second.id)]})
    assert moved.status_code == 200 and moved.json["version"] > made.json["version"]
    assert plan_id not in _plans(first_phone)  # taken away: a delete
    changes = first_phone.pull()
    assert changes == []  # nothing more to learn
    assert _plans(second_phone)[plan_id]["assignee_ids"] == [str(second.id)]

    gone = _call(client, "DELETE", f"/api/v1/plans/{plan_id}", lead)
    assert gone.status_code == 204
    assert plan_id not in _plans(second_phone)
    assert _call(client, "DELETE", f"/api/v1/plans/{plan_id}", lead).status_code == 204
    actions = db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.subject_id == plan_id).order_by(AuditEvent.id)).all()
    assert actions == ["plan_created", "plan_changed", "plan_cancelled"]


def test_the_same_plan_sent_twice_is_one_plan(app, client, bureau, token_for):
    lead = token_for(bureau.inspector)
    body = plan_body(bureau, id=str(uuid.uuid4()))
    assert _call(client, "POST", "/api/v1/plans", lead, body).status_code == 201
    again = _call(client, "POST", "/api/v1/plans", lead, body)
    assert again.status_code == 201 and again.json["version"] == 1
    other = _call(client, "POST", "/api/v1/plans", lead, body | {"title": "另一个"})
    assert other.status_code == 409
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Plan)) == 1


def test_units_reviewers_and_other_supervisors_never_pull_a_plan(app, client, bureau, phone,
                                                                 token_for):
    lead = token_for(bureau.compiler)
    plan_id = _call(client, "POST", "/api/v1/plans", lead, plan_body(bureau)).json["id"]
    for outsider in (bureau.contact, bureau.reviewer, bureau.supervisors[3]):
        changes = phone(outsider).pull()
        assert all(c["type"] != "plan" for c in changes)
        assert all("十二月暗访计划" not in str(c) for c in changes)
        assert plan_id not in str(changes)


@pytest.mark.parametrize("role", ["supervisor", "reviewer", "unit", "admin"])
def test_other_roles_may_not_touch_plans(app, client, bureau, make, token_for, role):
    lead = token_for(bureau.compiler)
    plan_id = _call(client, "POST", "/api/v1/plans", lead, plan_body(bureau)).json["id"]
    someone = bureau.supervisors[0] if role == "supervisor" else make.user(role)
    them = token_for(someone)
    assert _call(client, "POST", "/api/v1/plans", them, plan_body(bureau)).status_code == 403
    assert _call(client, "PATCH", f"/api/v1/plans/{plan_id}", them,
                 {"title": "x"}).status_code == 403
    assert _call(client, "DELETE", f"/api/v1/plans/{plan_id}", them).status_code == 403
    db.session.expire_all()
    assert db.session.get(Plan, uuid.UUID(plan_id)).deleted_at is None


@pytest.mark.parametrize("change, field", [
    ({"window_end": "2026-12-01T08:00:00+08:00"}, "window_end"),
    ({"window_start": "2026-12-07T08:00:00"}, "window_start"),
    ({"mode": "secret"}, "mode"),
    ({"title": ""}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"site_ids": []}, "site_ids"),
    ({"site_ids": [str(uuid.uuid4())]}, "site_ids"),
    ({"assignee_ids": ["not-a-uuid"]}, "assignee_ids"),
    ({"colour": "red"}, "colour"),
])
def test_bad_plans_are_refused_with_a_problem_and_change_nothing(app, client, bureau,
                                                                 token_for, change, field):
    lead = token_for(bureau.compiler)
    answer = _call(client, "POST", "/api/v1/plans", lead, plan_body(bureau) | change)
    assert answer.status_code == 422, answer.json
    assert answer.mimetype == "application/problem+json"
    assert any(field in e["field"] for e in answer.json["errors"]), answer.json
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Plan)) == 0


def test_only_field_staff_can_be_assigned(app, client, bureau, token_for):
    lead = token_for(bureau.compiler)
    for wrong in (bureau.contact, bureau.reviewer):
        answer = _call(client, "POST", "/api/v1/plans", lead,
                       plan_body(bureau, assignee_ids=[str(wrong.id)]))
        assert answer.status_code == 422
        assert answer.json["errors"][0]["field"] == "assignee_ids"


def test_guessed_and_broken_ids_answer_404(app, client, bureau, token_for):
    lead = token_for(bureau.compiler)
    for ident in (uuid.uuid4(), "1 OR 1=1", "%00"):
        assert _call(client, "PATCH", f"/api/v1/plans/{ident}", lead,
                     {"title": "x"}).status_code == 404


def test_a_check_started_under_a_plan_keeps_it_when_the_plan_is_cancelled(
        app, client, bureau, phone, token_for):
    """A supervisor started the check offline; the plan was cancelled before they
    synced. The check arrives with its plan."""
    lead = token_for(bureau.compiler)
    plan_id = _call(client, "POST", "/api/v1/plans", lead, plan_body(bureau)).json["id"]
    mine = phone(bureau.supervisors[0])
    assert _call(client, "DELETE", f"/api/v1/plans/{plan_id}", lead).status_code == 204
    result = mine.push_one(new_check(bureau.sites[4], plan_id=plan_id))
    assert result["status"] == "applied", result
    assert _plans(mine) == {}
