"""Roles × record types: what each role pulls, and what it may push."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from server.models import Case, Check, Evidence, Finding, Plan, Rectification, Site
from server.roles import ROLES
from server.visibility import visible
from tests.server.sync.conftest import mutation, new_check
from tests.server.test_visibility import bureau  # noqa: F401  (fixture)

MODELS = {"plan": Plan, "check": Check, "finding": Finding, "evidence": Evidence,
          "case": Case, "rectification": Rectification, "site": Site}


def _sql_view(user) -> set:
    from server.extensions import db

    return {(kind, str(i)) for kind, model in MODELS.items()
            for i in db.session.scalars(db.select(model.id).where(visible(user, model)))}


@pytest.mark.parametrize("who", ["sup_a", "sup_b", "inspector", "contact", "reviewer",
                                 "compiler", "admin"])
def test_pull_shows_exactly_what_the_visibility_rules_allow(bureau, make, phone, who):  # noqa: F811
    user = bureau[who] if who in bureau else make.user(who)
    pulled = {key for key in phone(user).state() if key[0] in MODELS}
    assert pulled == _sql_view(user)


def test_unit_contact_never_pulls_a_plan_or_a_check(bureau, phone):  # noqa: F811
    held = phone(bureau["contact"]).state()
    assert not {kind for kind, _ in held} & {"plan", "check"}
    assert str(bureau["plan"].id) not in str(held)


# What each role may create by push; everyone else is rejected with a reason.
CREATORS = {"check": {"inspector", "supervisor"}, "finding": {"inspector", "supervisor"},
            "evidence": {"inspector", "supervisor", "unit"}, "case": {"reviewer", "compiler"},
            "rectification": {"unit"}, "plan": set(), "site": set(), "unit": set(),
            "category": set()}


def _creation(kind, ctx):
    if kind == "check":
        return new_check(ctx["site"])
    if kind == "finding":
        return mutation("finding", data={"check_id": str(ctx["check"].id),
                                         "category_id": str(ctx["category"].id)})
    if kind == "evidence":
        data = {"kind": "photo", "sha256": "a" * 64, "size": 10}
        return mutation("evidence", data=data | ({} if ctx["role"] == "unit"
                                                  else {"check_id": str(ctx["check"].id)}))
    if kind == "case":
        deadline = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()
        return mutation("case", data={"finding_id": str(ctx["finding"].id),
                                      "deadline": deadline})
    if kind == "rectification":
        return mutation("rectification", data={"case_id": str(ctx["case"].id),
                                               "report": "已完成整改"})
    return mutation(kind, data={"name": "x"})


@pytest.mark.parametrize("role", ROLES)
def test_push_matrix_of_roles_and_record_types(make, phone, role):
    office = make.unit()
    user = make.user(role, unit=office if role == "unit" else None)
    site = make.site(office)
    # Records of the user's own where the role may have them; a published finding's case.
    check = make.check(user if role in ("inspector", "supervisor") else make.user(), site)
    finding = make.finding(check, published=True)
    ctx = {"role": role, "site": site, "check": check, "category": make.category(),
           "finding": make.finding(check), "case": make.case(finding)}
    p = phone(user)
    for kind, creators in CREATORS.items():
        result = p.push_one(_creation(kind, ctx))
        expected = "applied" if role in creators else "rejected"
        assert result["status"] == expected, (role, kind, result)
        if expected == "rejected":
            assert result["error"]["status"] in (403, 404, 422) and result["error"]["detail"]


def test_supervisor_cannot_touch_another_supervisors_check(bureau, phone):  # noqa: F811
    other = phone(bureau["sup_b"])
    target = bureau["check_a"]
    for m in (mutation("check", target.id, {"notes": "改"}, base_version=1),
              mutation("check", target.id, op="delete", base_version=1),
              mutation("finding", data={"check_id": str(target.id),
                                        "category_id": str(uuid.uuid4())})):
        result = other.push_one(m)
        assert result["status"] == "rejected", m
        assert "check_a" not in str(result) and str(target.site_id) not in str(result)
