"""After review only reviewers change a finding; what the phone captured is set once; lists
of evidence ids are unions with a cap."""

import uuid

import pytest

from server.extensions import db
from server.models import Finding
from tests.server.sync.conftest import mutation


@pytest.fixture
def field(make, phone):
    inspector = make.user("inspector")
    check = make.check(inspector, make.site())
    return phone(inspector), check


@pytest.mark.parametrize("reviewed", ["confirmed", "published"])
@pytest.mark.parametrize("change", [{"severity": "major"}, {"description": "改写"},
                                    {"unit_id": "other"}, {"evidence_ids": ["new"]}])
def test_after_review_the_creator_can_no_longer_change_a_finding(field, make, phone, reviewed,
                                                                  change):
    p, check = field
    finding = make.finding(check, published=reviewed == "published")
    if reviewed == "confirmed":
        finding.state = "confirmed"
        db.session.commit()
    if "unit_id" in change:
        change = {"unit_id": str(make.unit().id)}
    if "evidence_ids" in change:
        change = {"evidence_ids": [str(uuid.uuid4())]}
    result = p.push_one(mutation("finding", finding.id, change, base_version=finding.version))
    assert result["status"] == "rejected" and result["error"]["status"] == 409
    reviewer = phone(make.user("reviewer"))
    assert reviewer.push_one(mutation("finding", finding.id, change,
                                      base_version=finding.version))["status"] == "applied"


def test_a_pending_finding_stays_the_creators_to_change(field, make):
    p, check = field
    finding = make.finding(check)
    assert p.push_one(mutation("finding", finding.id, {"severity": "major"},
                               base_version=1))["status"] == "applied"
    assert db.session.get(Finding, finding.id).severity == "major"


@pytest.mark.parametrize("name, first, second", [
    ("captured_at", "2026-11-30T09:12:03+08:00", "2026-11-29T09:12:03+08:00"),
    ("location", {"lat": 34.26, "lon": 117.19}, {"lat": 34.30, "lon": 117.10}),
    ("filename", "IMG_0001.jpg", "IMG_9999.jpg"),
])
def test_what_the_phone_captured_is_set_once(field, name, first, second):
    p, check = field
    evidence = mutation("evidence", data={"check_id": str(check.id), "kind": "photo",
                                          "sha256": "ab" * 32, "size": 10})
    assert p.push_one(evidence)["status"] == "applied"
    eid = evidence["entity_id"]
    assert p.push_one(mutation("evidence", eid, {name: first}, base_version=1))["status"] \
        == "applied"
    assert p.push_one(mutation("evidence", eid, {name: first}, base_version=2))["status"] \
        == "applied"  # the same value again changes nothing
    rewrite = p.push_one(mutation("evidence", eid, {name: second}, base_version=2))
    assert rewrite["status"] == "rejected" and rewrite["error"]["status"] == 409
    assert rewrite["error"]["errors"][0]["field"] == f"data.{name}"


def test_evidence_ids_are_a_union_of_at_most_500(field, make):
    p, check = field
    finding = make.finding(check)
    first = [str(uuid.uuid4()) for _ in range(300)]
    second = first[100:] + [str(uuid.uuid4()) for _ in range(200)]
    assert p.push_one(mutation("finding", finding.id, {"evidence_ids": first},
                               base_version=1))["status"] == "applied"
    assert p.push_one(mutation("finding", finding.id, {"evidence_ids": second},
                               base_version=2))["status"] == "applied"
    db.session.expire_all()
    listed = db.session.get(Finding, finding.id).evidence_ids
    assert listed == first + second[200:] and len(listed) == 500
    over = p.push_one(mutation("finding", finding.id, {"evidence_ids": [str(uuid.uuid4())]},
                               base_version=3))
    assert over["status"] == "rejected" and over["error"]["status"] == 422
    assert "500" in over["error"]["detail"]
    too_many = p.push_one(mutation("finding", finding.id, {
        "evidence_ids": [str(uuid.uuid4()) for _ in range(501)]}, base_version=3))
    assert too_many["status"] == "rejected"
