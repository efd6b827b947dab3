"""The desk's actions as JSON: review, confirm, dismiss, move a case, list cases, with
their roles, their refusals, the audit trail and what phones then pull."""

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import AuditEvent, Case, Evidence, Finding
from server.zone import bureau_today


def _events(action=None):
    query = sa.select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    return db.session.scalars(query.order_by(AuditEvent.id)).all()


def _review(desk_user, evidence, decision, note=None, status=200):
    return desk_user.call("POST", f"/api/v1/evidence/{evidence.id}/review",
                          {"decision": decision, "note": note}, status)


def test_a_reviewer_accepts_evidence_once(bureau, desk):
    reviewer = desk(bureau.reviewer)
    answer = _review(reviewer, bureau.photo, "accepted").json
    assert answer["review_state"] == "accepted" and answer["id"] == str(bureau.photo.id)
    again = _review(reviewer, bureau.photo, "accepted").json
    assert again["version"] == answer["version"]
    assert len(_events("evidence_reviewed")) == 1
    event = _events("evidence_reviewed")[0]
    assert event.actor_id == bureau.reviewer.id and event.subject_id == str(bureau.photo.id)


def test_needs_info_reaches_the_inspectors_phone(bureau, desk):
    phone = desk(bureau.inspector)
    phone.pull()
    _review(desk(bureau.compiler), bureau.photo, "needs_info", "请补拍工作人员胸牌")
    changed = [c for c in phone.pull() if c["type"] == "evidence"]
    assert [(c["entity_id"], c["data"]["review_state"], c["data"]["review_note"])
            for c in changed] == [(str(bureau.photo.id), "needs_info", "请补拍工作人员胸牌")]


@pytest.mark.parametrize("decision, note, status, words", [
    ("needs_info", None, 422, "说明"),
    ("rejected", "   ", 422, "说明"),
    ("maybe", None, 422, "decision"),
])
def test_a_decision_without_what_it_needs_changes_nothing(bureau, desk, decision, note,
                                                          status, words):
    answer = _review(desk(bureau.reviewer), bureau.photo, decision, note, status)
    assert answer.mimetype == "application/problem+json"
    assert words in answer.get_data(as_text=True)
    assert db.session.get(Evidence, bureau.photo.id).review_state == "pending"
    assert not _events("evidence_reviewed")


def test_evidence_not_yet_processed_cannot_be_judged(bureau, desk):
    answer = _review(desk(bureau.reviewer), bureau.pending, "accepted", status=409)
    assert "尚未处理完毕" in answer.json["detail"]


@pytest.mark.parametrize("role", ["inspector", "supervisor", "unit", "admin"])
def test_only_reviewers_judge_evidence(bureau, desk, make, role):
    user = bureau.contact if role == "unit" else make.user(role)
    _review(desk(user), bureau.photo, "accepted", status=403)
    assert db.session.get(Evidence, bureau.photo.id).review_state == "pending"


@pytest.mark.parametrize("path", ["/api/v1/evidence/{}/review", "/api/v1/findings/{}/confirm",
                                  "/api/v1/findings/{}/dismiss", "/api/v1/cases/{}/transition"])
@pytest.mark.parametrize("ident", ["nope", "81c59988-701d-4fb7-8083-8a8d2cc8a2f6", "1 OR 1=1",
                                   "%00"])
def test_guessed_ids_are_not_found(bureau, desk, path, ident):
    body = {"decision": "accepted", "severity": "general", "note": "x", "to": "notified"}
    user = desk(bureau.reviewer)
    answer = user.client.post(path.format(ident), headers=user.headers,
                              json={k: v for k, v in body.items()
                                    if k in {"review": ("decision",), "confirm": ("severity",),
                                             "dismiss": ("note",),
                                             "transition": ("to",)}[path.split("/")[-1]]})
    assert answer.status_code == 404, answer.get_data(as_text=True)
    assert answer.mimetype == "application/problem+json"


def test_confirm_opens_the_case_with_the_defaults(bureau, desk):
    answer = desk(bureau.reviewer).call("POST", f"/api/v1/findings/{bureau.finding.id}/confirm",
                                        {"severity": "major"}, 201).json
    days = bureau.finding.category.default_deadline_days
    assert answer["status"] == "open" and answer["finding_id"] == str(bureau.finding.id)
    assert answer["unit_id"] == str(bureau.unit.id)
    assert answer["leader_name"] == bureau.unit.leader_name
    assert answer["deadline"] == (bureau_today() + timedelta(days=days)).isoformat()
    finding = db.session.get(Finding, bureau.finding.id)
    assert (finding.state, finding.severity, finding.published_at) == ("confirmed", "major",
                                                                       None)
    again = desk(bureau.reviewer).call("POST", f"/api/v1/findings/{bureau.finding.id}/confirm",
                                       {"severity": "major"}, 201).json
    assert again["id"] == answer["id"]
    decided = [e.action for e in _events() if e.subject_type in ("finding", "case")]
    assert decided == ["finding_confirmed", "case_opened"]
    desk(bureau.reviewer).call("POST", f"/api/v1/findings/{bureau.finding.id}/confirm",
                               {"severity": "general"}, 409)
    desk(bureau.reviewer).call("POST", f"/api/v1/findings/{bureau.finding.id}/dismiss",
                               {"note": "不是问题"}, 409)


def test_confirm_takes_what_the_reviewer_chose(bureau, desk, make):
    other = make.unit(name="城市建设科")
    deadline = (bureau_today() + timedelta(days=3)).isoformat()
    answer = desk(bureau.compiler).call(
        "POST", f"/api/v1/findings/{bureau.finding.id}/confirm",
        {"severity": "general", "unit_id": str(other.id), "leader_name": "张局长",
         "deadline": deadline, "category_id": str(make.category("badge").id)}, 201).json
    assert (answer["unit_id"], answer["leader_name"], answer["deadline"]) == (
        str(other.id), "张局长", deadline)
    desk(bureau.compiler).call("POST", f"/api/v1/findings/{make.finding(bureau.check).id}/"
                               "confirm", {"severity": "general",
                                           "category_id": str(uuid.uuid4())}, 422)


def test_dismiss_needs_a_reason_and_then_no_case_can_open(bureau, desk):
    reviewer = desk(bureau.reviewer)
    path = f"/api/v1/findings/{bureau.finding.id}"
    reviewer.call("POST", path + "/dismiss", {"note": ""}, 422)
    answer = reviewer.call("POST", path + "/dismiss", {"note": "照片显示已在岗"}, 200).json
    assert answer["state"] == "dismissed"
    reviewer.call("POST", path + "/dismiss", {"note": "照片显示已在岗"}, 200)
    assert len(_events("finding_dismissed")) == 1
    reviewer.call("POST", path + "/confirm", {"severity": "general"}, 409)


def _confirm(bureau, desk):
    answer = desk(bureau.reviewer).call("POST", f"/api/v1/findings/{bureau.finding.id}/confirm",
                                        {"severity": "general"}, 201)
    return answer.json["id"]


def _move(desk_user, case_id, to, note=None, status=200):
    return desk_user.call("POST", f"/api/v1/cases/{case_id}/transition",
                          {"to": to, "note": note}, status)


def test_the_rectification_loop_by_its_roles(bureau, desk):
    _review(desk(bureau.reviewer), bureau.photo, "accepted")
    case_id = _confirm(bureau, desk)
    reviewer, unit, inspector = (desk(bureau.reviewer), desk(bureau.contact),
                                 desk(bureau.inspector))
    _move(unit, case_id, "notified", status=404)  # not yet theirs to see
    _move(reviewer, case_id, "rectifying", status=409)
    _move(reviewer, case_id, "notified")
    _move(reviewer, case_id, "notified")  # again: harmless
    _move(reviewer, case_id, "rectifying", status=403)  # the unit's move
    _move(unit, case_id, "rectifying")
    _move(unit, case_id, "submitted")
    _move(unit, case_id, "verified", status=403)
    _move(reviewer, case_id, "rectifying", status=422)  # sent back needs a reason
    _move(inspector, case_id, "verified")
    _move(reviewer, case_id, "closed")
    _move(reviewer, case_id, "reopened", status=422)
    answer = _move(reviewer, case_id, "reopened", "复查发现反弹").json
    assert answer["status"] == "reopened"
    moves = [(e.detail["from"], e.detail["to"]) for e in _events("case_moved")]
    assert moves == [("open", "notified"), ("notified", "rectifying"),
                     ("rectifying", "submitted"), ("submitted", "verified"),
                     ("verified", "closed"), ("closed", "reopened")]


def test_notifying_publishes_to_the_unit_and_nothing_of_the_check(bureau, desk, make):
    rejected = make.evidence(bureau.check, bureau.finding)
    rejected.state = "ready"
    db.session.commit()
    reviewer = desk(bureau.reviewer)
    _review(reviewer, bureau.photo, "accepted")
    _review(reviewer, rejected, "rejected", "与问题无关")
    case_id = _confirm(bureau, desk)
    unit = desk(bureau.contact)
    before = unit.state()
    assert not {kind for kind, _id in before} & {"finding", "case", "evidence", "check",
                                                  "plan"}
    _move(reviewer, case_id, "notified")
    held = unit.state()
    assert {(kind, entity) for kind, entity in held if kind in ("finding", "evidence",
                                                                "case")} == {
        ("finding", str(bureau.finding.id)), ("evidence", str(bureau.photo.id)),
        ("case", case_id)}
    text = str(held)
    assert bureau.plan.title not in text and str(bureau.check.id) in text  # an id, no more
    assert "plan" not in {kind for kind, _id in held} and "check" not in {k for k, _i in held}
    other = desk(bureau.other_contact).state()
    assert not {kind for kind, _id in other} & {"finding", "case", "evidence"}
    listed = unit.call("GET", "/api/v1/cases", status=200).json
    assert [c["id"] for c in listed["cases"]] == [case_id]
    assert desk(bureau.other_contact).call("GET", "/api/v1/cases", status=200).json[
        "cases"] == []
    _move(desk(bureau.other_contact), case_id, "rectifying", status=404)


def test_case_lists_filter_and_page(bureau, desk, make):
    cases = []
    for _n in range(5):
        finding = make.finding(bureau.check)
        cases.append(desk(bureau.reviewer).call("POST", f"/api/v1/findings/{finding.id}/"
                                                "confirm", {"severity": "general"}, 201)
                     .json["id"])
    _move(desk(bureau.reviewer), cases[0], "notified")
    reviewer = desk(bureau.reviewer)
    seen, cursor = [], None
    while True:
        page = reviewer.call("GET", "/api/v1/cases?limit=2" + (f"&cursor={cursor}" if cursor
                                                                else ""), status=200).json
        seen += [c["id"] for c in page["cases"]]
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert sorted(seen) == sorted(cases) and len(seen) == 5
    assert [c["id"] for c in reviewer.call("GET", "/api/v1/cases?status=notified",
                                           status=200).json["cases"]] == [cases[0]]
    month = bureau_today().strftime("%Y-%m")
    assert len(reviewer.call("GET", f"/api/v1/cases?month={month}", status=200)
               .json["cases"]) == 5
    assert reviewer.call("GET", "/api/v1/cases?month=2020-01", status=200).json["cases"] == []
    assert reviewer.call("GET", "/api/v1/cases?overdue=true", status=200).json["cases"] == []
    for bad in ("month=2026-13", "month=x", "status=lost", "cursor=abc", "limit=0",
                "unit_id=1", "overdue=maybe"):
        answer = reviewer.call("GET", f"/api/v1/cases?{bad}", status=422)
        assert answer.mimetype == "application/problem+json"
    desk(bureau.supervisor).call("GET", "/api/v1/cases", status=403)


def test_escalation_marks_overdue_cases_once_and_tells_unit_and_compiler(bureau, desk,
                                                                          runner):
    from server.models import Notice

    case_id = _confirm(bureau, desk)
    _move(desk(bureau.reviewer), case_id, "notified")
    case = db.session.get(Case, uuid.UUID(case_id))
    case.deadline = bureau_today() - timedelta(days=1)
    db.session.commit()
    result = runner.invoke(args=["cases", "escalate"])
    assert result.exit_code == 0 and "1 case" in result.output
    assert runner.invoke(args=["cases", "escalate"]).exit_code == 0
    case = db.session.get(Case, uuid.UUID(case_id))
    assert case.overdue is True
    told = db.session.scalars(sa.select(Notice).where(Notice.kind == "overdue")).all()
    assert sorted((n.unit_id is not None, n.role) for n in told) == [(False, "compiler"),
                                                                    (True, None)]
    assert len(_events("case_overdue")) == 1
    listed = desk(bureau.contact).call("GET", "/api/v1/cases?overdue=true", status=200).json
    assert [c["id"] for c in listed["cases"]] == [case_id] and listed["cases"][0]["overdue"]
    _move(desk(bureau.contact), case_id, "rectifying")
    _move(desk(bureau.contact), case_id, "submitted")
    assert db.session.get(Case, uuid.UUID(case_id)).overdue is False


def test_a_browser_session_needs_its_csrf_token(bureau, client, app):
    from tests.server.web.test_pages import _csrf

    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"username": bureau.reviewer.username,
                                "password": "correct-horse-42", "csrf_token": _csrf(page)})
    path = f"/api/v1/evidence/{bureau.photo.id}/review"
    refused = client.post(path, json={"decision": "accepted"})
    assert refused.status_code == 400 and refused.mimetype == "application/problem+json"
    assert db.session.get(Evidence, bureau.photo.id).review_state == "pending"
    token = _csrf(client.get("/").get_data(as_text=True))
    assert client.post(path, json={"decision": "accepted"},
                       headers={"X-CSRFToken": token}).status_code == 200


def test_markup_in_a_note_is_kept_as_text(bureau, desk):
    note = '<script>alert("x")</script>'
    answer = _review(desk(bureau.reviewer), bureau.photo, "needs_info", note).json
    assert answer["review_note"] == note


def test_what_the_inspector_adds_after_needs_info_returns_to_the_queue(bureau, desk, browser):
    from tests.server.sync.conftest import mutation

    _review(desk(bureau.reviewer), bureau.photo, "needs_info", "请补拍工作人员胸牌")
    phone = desk(bureau.inspector)
    held = phone.state()
    assert held[("evidence", str(bureau.photo.id))]["review_note"] == "请补拍工作人员胸牌"
    answer = mutation("evidence", data={"check_id": str(bureau.check.id), "kind": "photo",
                                        "finding_id": str(bureau.finding.id),
                                        "sha256": "cd" * 32, "size": 2048})
    assert phone.push_one(answer)["status"] == "applied"
    added = db.session.get(Evidence, uuid.UUID(answer["entity_id"]))
    added.state = "ready"  # its file arrived and was read
    db.session.commit()
    queue = browser(bureau.reviewer).page(f"/review?check_id={bureau.check.id}")
    assert f"/review/{added.id}" in queue
    assert f"/review/{bureau.photo.id}" not in queue  # decided: waits for nothing


def test_verifying_names_the_recheck_made_since_the_unit_was_told(bureau, desk, make):
    _review(desk(bureau.reviewer), bureau.photo, "accepted")
    case_id = _confirm(bureau, desk)
    _move(desk(bureau.reviewer), case_id, "notified")
    _move(desk(bureau.contact), case_id, "rectifying")
    _move(desk(bureau.contact), case_id, "submitted")
    elsewhere = make.check(bureau.inspector, make.site())
    inspector = desk(bureau.inspector)
    for wrong in (bureau.check.id, elsewhere.id, uuid.uuid4()):  # the first visit; another site
        inspector.call("POST", f"/api/v1/cases/{case_id}/transition",
                       {"to": "verified", "recheck_id": str(wrong)}, 422)
    recheck = make.check(bureau.inspector, bureau.site, mode="open")
    inspector.call("POST", f"/api/v1/cases/{case_id}/transition",
                   {"to": "verified", "recheck_id": str(recheck.id), "note": "复查已整改"}, 200)
    moved = _events("case_moved")[-1]
    assert moved.detail["to"] == "verified" and moved.detail["recheck_id"] == str(recheck.id)
