"""Who sees which records (docs/architecture.md, "Roles"): the rules every reader applies."""

import pytest

from server.extensions import db
from server.models import Case, Check, Evidence, Finding, Plan, Rectification, Site
from server.visibility import visible


@pytest.fixture
def bureau(make):
    """Two units; a covert plan for supervisor A; checks by A, B and an inspector."""
    office, works = make.unit(name="行政审批科"), make.unit(name="城市建设科")
    window, road = make.site(office, kind="office", radius_m=80), make.site(works)
    sup_a, sup_b = make.user("supervisor"), make.user("supervisor")
    inspector = make.user("inspector")
    plan = make.plan([window, road], [sup_a])
    check_a = make.check(sup_a, window, plan=plan)
    check_b = make.check(sup_b, road, mode="open")
    check_i = make.check(inspector, road, mode="open")
    published = make.finding(check_a, published=True)          # office, published
    unpublished = make.finding(check_a)                         # office, not yet
    other_unit = make.finding(check_b, published=True)          # works, published
    case = make.case(published)
    contact = make.user("unit", unit=office)
    rect = make.rectification(case, contact)
    return {"office": office, "works": works, "window": window, "road": road,
            "sup_a": sup_a, "sup_b": sup_b, "inspector": inspector, "plan": plan,
            "check_a": check_a, "check_b": check_b, "check_i": check_i,
            "published": published, "unpublished": unpublished, "other_unit": other_unit,
            "case": case, "contact": contact, "rect": rect,
            "ev_published": _accepted(make.evidence(check_a, published)),
            "ev_published_pending": make.evidence(check_a, published),
            "ev_unpublished": make.evidence(check_a, unpublished),
            "ev_b": make.evidence(check_b, other_unit)}


def _accepted(evidence):
    evidence.review_state = "accepted"
    db.session.commit()
    return evidence


def seen(user, model):
    return set(db.session.scalars(db.select(model.id).where(visible(user, model))))


def ids(*records):
    return {r.id for r in records}


def test_supervisor_sees_only_own_checks_findings_evidence_and_assigned_plans(bureau):
    a = bureau["sup_a"]
    assert seen(a, Check) == ids(bureau["check_a"])
    assert seen(a, Finding) == ids(bureau["published"], bureau["unpublished"])
    assert seen(a, Evidence) == ids(bureau["ev_published"], bureau["ev_unpublished"],
                                    bureau["ev_published_pending"])
    assert seen(a, Plan) == ids(bureau["plan"])
    assert seen(a, Case) == set() and seen(a, Rectification) == set()
    b = bureau["sup_b"]
    assert seen(b, Plan) == set() and seen(b, Check) == ids(bureau["check_b"])


def test_unit_contact_sees_only_published_material_of_own_unit(bureau):
    contact = bureau["contact"]
    assert seen(contact, Finding) == ids(bureau["published"])
    assert seen(contact, Evidence) == ids(bureau["ev_published"])
    assert seen(contact, Case) == ids(bureau["case"])
    assert seen(contact, Rectification) == ids(bureau["rect"])
    assert seen(contact, Site) == ids(bureau["window"])


def test_unit_contact_never_sees_plans_or_checks(bureau):
    contact = bureau["contact"]
    assert seen(contact, Plan) == set()
    assert seen(contact, Check) == set()  # a check's time would reveal the covert visit


@pytest.mark.parametrize("role", ["inspector", "reviewer", "compiler"])
def test_staff_see_every_check_finding_and_case(bureau, make, role):
    user = make.user(role)
    assert seen(user, Check) == ids(bureau["check_a"], bureau["check_b"], bureau["check_i"])
    assert len(seen(user, Finding)) == 3 and seen(user, Case) == ids(bureau["case"])


def test_only_planners_see_plans(bureau, make):
    assert seen(make.user("inspector"), Plan) == ids(bureau["plan"])
    assert seen(make.user("compiler"), Plan) == ids(bureau["plan"])
    assert seen(make.user("reviewer"), Plan) == set()
    assert seen(make.user("admin"), Plan) == set()


def test_admin_has_no_access_to_evidence(bureau, make):
    admin = make.user("admin")
    assert seen(admin, Evidence) == set() and seen(admin, Check) == set()
