"""Push: each mutation applied atomically and at most once, with one result each, in order."""

import threading
import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from server.api.records import MODELS, to_data
from server.extensions import db
from server.models import AppliedMutation, AuditEvent, Case, Check, Evidence, Finding
from server.sync.bulk import COPY_FROM
from tests.server.sync.conftest import mutation, new_check


def _count(model):
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_create_check_is_applied_with_server_fields(phone, make):
    user, site = make.user("supervisor"), make.site()
    m = new_check(site)
    body = phone(user).push(m)
    assert body["results"] == [{"id": m["id"], "status": "applied", "version": 1}]
    assert body["cursor"]
    check = db.session.get(Check, uuid.UUID(m["entity_id"]))
    assert check.created_by == user.id and check.received_at is not None
    assert check.notes == "上下班签到检查" and check.mode == "covert"


def test_same_mutation_twice_is_applied_once(phone, make):
    user, site = make.user("inspector"), make.site()
    p, m = phone(user), new_check(site)
    first = p.push_one(m)
    again = p.push(m, m)["results"]
    assert first["status"] == "applied"
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert {r["version"] for r in again} == {first["version"]}
    assert _count(Check) == 1 and _count(AppliedMutation) == 1


def test_reused_mutation_id_for_another_change_is_rejected(phone, make):
    user, site = make.user("inspector"), make.site()
    p, m = phone(user), new_check(site)
    p.push_one(m)
    other = new_check(site, mid=m["id"]) | {"id": m["id"]}
    result = p.push_one(other)
    assert result["status"] == "rejected" and result["error"]["status"] == 409
    assert _count(Check) == 1


def test_rejected_mutation_does_not_stop_the_batch(phone, make):
    user, site = make.user("supervisor"), make.site()
    good1, good2 = new_check(site), new_check(site)
    bad = mutation("check", data={"mode": "covert"})  # no site, no start
    results = phone(user).push(good1, bad, good2)["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert [r["id"] for r in results] == [good1["id"], bad["id"], good2["id"]]
    fields = {e["field"] for e in results[1]["error"]["errors"]}
    assert fields == {"data.site_id", "data.started_at"}
    assert _count(Check) == 2


def test_a_batch_applied_one_by_one_records_each_event_once(phone, make):
    """A batch with a refused mutation is applied again one mutation at a time: the
    audit trail still says once that the unit reported its repair, and the record the
    first try changed is changed once."""
    office = make.unit()
    contact = make.user("unit", unit=office)
    case = make.case(make.finding(make.check(make.user("supervisor"), make.site(office)),
                                  published=True))
    report = mutation("rectification", data={"case_id": str(case.id), "report": "已整改"})
    refused = mutation("check", data={"mode": "covert"})  # a unit runs no checks
    results = phone(contact).push(report, refused)["results"]
    assert [r["status"] for r in results] == ["applied", "rejected"]
    events = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "rectification_reported")).all()
    assert [e.detail["rectification_id"] for e in events] == [report["entity_id"]]


def test_a_refused_mutation_leaves_no_event_in_the_audit_trail(phone, make):
    """A case opened with a status it cannot have is refused whole: no case, and the
    audit trail does not say it was opened."""
    reviewer = make.user("compiler")
    finding = make.finding(make.check(make.user("supervisor"), make.site()))
    opened = mutation("case", data={"finding_id": str(finding.id), "deadline": "2026-12-31",
                                    "status": "closed"})
    [result] = phone(reviewer).push(opened)["results"]
    assert result["status"] == "rejected" and result["error"]["status"] == 409
    assert db.session.get(Case, uuid.UUID(opened["entity_id"])) is None
    assert db.session.scalars(db.select(AuditEvent.subject_id).where(
        AuditEvent.action == "case_opened")).all() == []


def test_fields_not_sent_are_kept(phone, make):
    user, site = make.user("supervisor"), make.site()
    p, m = phone(user), new_check(site)
    version = p.push_one(m)["version"]
    ended = mutation("check", m["entity_id"], {"ended_at": "2026-11-30T10:00:00+08:00"},
                     base_version=version)
    assert p.push_one(ended)["status"] == "applied"
    check = db.session.get(Check, uuid.UUID(m["entity_id"]))
    assert check.notes == "上下班签到检查" and check.ended_at is not None


def test_stale_base_version_is_a_conflict_with_the_current_record(phone, make):
    user, site = make.user("supervisor"), make.site()
    p, m = phone(user), new_check(site)
    p.push_one(m)
    p.push_one(mutation("check", m["entity_id"], {"mode": "open"}, base_version=1))
    stale = p.push_one(mutation("check", m["entity_id"], {"mode": "covert"}, base_version=1))
    assert stale["status"] == "conflict" and stale["version"] == 2
    assert stale["current"]["mode"] == "open" and stale["current"]["version"] == 2


def test_a_notes_change_sent_again_is_a_duplicate_and_changes_nothing(phone, make):
    """A change of notes alone never conflicts, so sent again after a lost answer it
    gets as far as being written; the mutation's id stops it, and nothing of it stays."""
    user, site = make.user("supervisor"), make.site()
    p, m = phone(user), new_check(site, notes="08:30 到达现场")
    p.push_one(m)
    noted = mutation("check", m["entity_id"], {"notes": "08:30 到达现场\n08:40 窗口无人"},
                     base_version=1)
    assert p.push_one(noted)["status"] == "applied"
    again = p.push(noted, new_check(site))["results"]
    assert [r["status"] for r in again] == ["duplicate", "applied"]
    assert again[0]["version"] == 2
    db.session.expire_all()
    check = db.session.get(Check, uuid.UUID(m["entity_id"]))
    assert (check.version, check.notes) == (2, "08:30 到达现场\n08:40 窗口无人")
    assert _count(Check) == 2


def test_notes_are_append_only_and_never_conflict(phone, make):
    user, site = make.user("supervisor"), make.site()
    p, m = phone(user), new_check(site, notes="08:30 到达现场")
    p.push_one(m)
    p.push_one(mutation("check", m["entity_id"], {"notes": "08:30 到达现场\n08:40 窗口无人"},
                        base_version=1))
    late = p.push_one(mutation("check", m["entity_id"],
                               {"notes": "08:30 到达现场\n08:45 询问值班领导"}, base_version=1))
    assert late["status"] == "applied"
    notes = db.session.get(Check, uuid.UUID(m["entity_id"])).notes
    assert notes.splitlines() == ["08:30 到达现场", "08:40 窗口无人", "08:45 询问值班领导"]


def test_create_on_an_existing_id_is_a_conflict(phone, make):
    user, site = make.user("supervisor"), make.site()
    p, m = phone(user), new_check(site)
    p.push_one(m)
    again = p.push_one(new_check(site) | {"entity_id": m["entity_id"]})
    assert again["status"] == "conflict" and again["current"]["id"] == m["entity_id"]


def test_delete_leaves_a_tombstone(phone, make):
    user, site = make.user("supervisor"), make.site()
    p, m = phone(user), new_check(site)
    p.push_one(m)
    gone = p.push_one(mutation("check", m["entity_id"], op="delete", base_version=1))
    assert gone["status"] == "applied"
    check = db.session.get(Check, uuid.UUID(m["entity_id"]))
    assert check is not None and check.deleted_at is not None
    later = p.push_one(mutation("check", m["entity_id"], {"notes": "x"}, base_version=2))
    assert later["status"] == "rejected" and later["error"]["status"] == 410


def test_finding_defaults_to_the_sites_unit_and_category_severity(phone, make):
    user, site = make.user("supervisor"), make.site()
    p, check = phone(user), new_check(site)
    p.push_one(check)
    category = make.category("site_safety")
    f = mutation("finding", data={"check_id": check["entity_id"],
                                  "category_id": str(category.id),
                                  "description": "施工现场未设置安全警示标志"})
    assert p.push_one(f)["status"] == "applied"
    finding = db.session.get(Finding, uuid.UUID(f["entity_id"]))
    assert finding.unit_id == site.unit_id and finding.severity == "major"


def test_evidence_ids_of_a_finding_are_a_union(phone, make):
    user, site = make.user("supervisor"), make.site()
    p, check = phone(user), new_check(site)
    p.push_one(check)
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    f = mutation("finding", data={"check_id": check["entity_id"],
                                  "category_id": str(make.category().id), "evidence_ids": [a]})
    p.push_one(f)
    p.push_one(mutation("finding", f["entity_id"], {"evidence_ids": [b]}, base_version=1))
    p.push_one(mutation("finding", f["entity_id"], {"evidence_ids": [a]}, base_version=1))
    assert db.session.get(Finding, uuid.UUID(f["entity_id"])).evidence_ids == [a, b]


def test_server_fields_are_ignored(phone, make):
    user, site = make.user("supervisor"), make.site()
    other = make.user("supervisor")
    m = new_check(site, created_by=str(other.id), received_at="2020-01-01T00:00:00+00:00")
    assert phone(user).push_one(m)["status"] == "applied"
    assert db.session.get(Check, uuid.UUID(m["entity_id"])).created_by == user.id


def test_a_visit_pushed_in_one_batch_arrives_linked(phone, make):
    """A phone back online sends a check, its finding, evidence and a later edit at once:
    the records are inserted together and linked as if sent one by one."""
    user, site = make.user("supervisor"), make.site()
    reader = phone(make.user("compiler"))
    reader.pull()
    check = new_check(site)
    finding = mutation("finding", data={"check_id": check["entity_id"],
                                        "category_id": str(make.category().id)})
    evidence = mutation("evidence", data={
        "check_id": check["entity_id"], "finding_id": finding["entity_id"], "kind": "photo",
        "sha256": "ab" * 32, "size": 1234, "filename": "IMG_0001.jpg"})
    more_notes = mutation("check", check["entity_id"], {"notes": "门卫未登记"})
    results = phone(user).push(check, finding, evidence, more_notes)["results"]
    assert [(r["status"], r["version"]) for r in results] == [("applied", 1)] * 4
    saved = db.session.get(Finding, uuid.UUID(finding["entity_id"]))
    assert str(saved.check_id) == check["entity_id"] and saved.unit_id == site.unit_id
    pulled = {(c["type"], c["entity_id"]): c["data"] for c in reader.pull()}
    assert pulled[("check", check["entity_id"])]["notes"] == "上下班签到检查\n门卫未登记"
    assert pulled[("finding", finding["entity_id"])]["check_id"] == check["entity_id"]
    got = pulled[("evidence", evidence["entity_id"])]
    assert (got["check_id"], got["finding_id"], got["state"]) == (
        check["entity_id"], finding["entity_id"], "awaiting_upload")
    assert got["review_state"] == "pending" and got["version"] == 1


def _visit(site, category, n: int) -> list[dict]:
    """A check with a finding and a photo, ``n`` times: what a phone sends after a day
    offline, every field set."""
    batch = []
    for k in range(n):
        check = new_check(site, notes=f"第{k}次检查\n门卫未登记\t\\", ended_at=(
            "2026-11-30T10:12:03+08:00"), location={"lat": 34.26, "lon": 117.19})
        finding = mutation("finding", data={
            "check_id": check["entity_id"], "category_id": str(category.id),
            "severity": "major", "description": f"离岗 {k}"})
        photo = mutation("evidence", data={
            "check_id": check["entity_id"], "finding_id": finding["entity_id"],
            "kind": "photo", "sha256": f"{k:064x}", "size": 3_000_000 + k,
            "filename": f"IMG_{k:04}.jpg", "captured_at": "2026-11-30T09:15:00+08:00",
            "location": {"lat": 34.2601, "lon": 117.1902, "accuracy_m": 5}})
        batch += [check, finding, photo]
    return batch


def test_a_day_offline_in_one_push_is_stored_as_a_few_mutations_would_be(phone, make):
    """A big batch goes to the database another way (COPY on PostgreSQL) than a small one:
    what phones then pull of it is the same, field for field, and sending it again
    changes nothing."""
    user, site, category = make.user("inspector"), make.site(), make.category()
    p, reader = phone(user), phone(make.user("compiler"))
    small, big = _visit(site, category, 1), _visit(site, category, COPY_FROM)
    assert [r["status"] for r in p.push(*small)["results"]] == ["applied"] * 3
    assert [r["status"] for r in p.push(*big)["results"]] == ["applied"] * len(big)
    pulled = {c["entity_id"]: c["data"] for c in reader.pull()}
    assert len(pulled) >= len(small) + len(big)
    db.session.expire_all()
    stored = {m["entity_id"]: to_data(db.session.get(MODELS[m["type"]], uuid.UUID(
        m["entity_id"]))) for m in small + big[-3:]}  # as read back from the database
    kinds = {}
    for m in small + big[-3:]:  # the first visit of each, sent alone and sent in bulk
        got = []
        for data in (dict(pulled[m["entity_id"]]), dict(stored[m["entity_id"]])):
            for name in ("id", "check_id", "finding_id", "received_at", "sha256", "size",
                         "filename", "description", "notes"):
                data.pop(name, None)
            got.append(data)
        kinds.setdefault(m["type"], []).append(got)
    assert all(alone == bulk for alone, bulk in kinds.values())
    last = pulled[big[-3]["entity_id"]]
    assert last["notes"] == f"第{COPY_FROM - 1}次检查\n门卫未登记\t\\"
    assert datetime.fromisoformat(last["started_at"]) == datetime(2026, 11, 30, 1, 12, 3,
                                                                  tzinfo=UTC)
    assert last["location"] == {"lat": 34.26, "lon": 117.19, "accuracy_m": None}
    saved = db.session.get(Evidence, uuid.UUID(big[-1]["entity_id"]))
    assert (saved.size, saved.state, str(saved.finding_id)) == (
        3_000_000 + COPY_FROM - 1, "awaiting_upload", big[-2]["entity_id"])
    again = p.push(*big)["results"]
    assert {r["status"] for r in again} == {"duplicate"}
    assert _count(AppliedMutation) == len(small) + len(big)
    assert reader.pull() == []


@pytest.mark.parametrize("backend", ["postgresql"])  # SQLite has one writer: no such race
@pytest.mark.parametrize("size", [4, COPY_FROM])  # INSERT in a pipeline, or COPY
def test_a_batch_that_loses_a_race_applies_the_rest_one_by_one(phone, make, live_server,
                                                               size):
    """Another writer commits a check with one of the batch's ids while the batch is being
    written: that mutation alone is refused, the others are applied once, and the feed
    holds the batch's records that exist, none that do not."""
    user, rival, site = make.user("inspector"), make.user("inspector"), make.site()
    batch = [new_check(site) for _ in range(size)]
    taken = uuid.UUID(batch[2]["entity_id"])
    p, answer = phone(user), {}
    db.session.commit()
    with db.engine.connect() as other:
        now = datetime.now(UTC)
        other.execute(sa.insert(Check.__table__).values(
            id=taken, version=1, created_at=now, updated_at=now, site_id=site.id, mode="open",
            started_at=now, notes="", created_by=rival.id, received_at=now))
        pusher = threading.Thread(target=lambda: answer.update(httpx.post(
            f"{live_server}/api/v1/sync/push", headers=p.headers, timeout=60,
            json={"device_id": p.device_id, "mutations": batch}).json()))
        pusher.start()
        _wait_for_a_lock_wait()  # the batch's insert waits on the uncommitted row
        other.commit()
        pusher.join(timeout=60)
    statuses = [r["status"] for r in answer["results"]]
    assert statuses[2] != "applied" and statuses[:2] + statuses[3:] == ["applied"] * (size - 1)
    assert _count(Check) == size and _count(AppliedMutation) == size - 1
    pulled = {c["entity_id"] for c in phone(make.user("compiler")).pull()
              if c["type"] == "check"}  # the rival's row was written behind the feed's back
    assert pulled == {m["entity_id"] for m in batch} - {str(taken)}


def _wait_for_a_lock_wait(timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.engine.connect() as connection:  # a new snapshot of the activity each time
            waiting = connection.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'").scalar()
        if waiting:
            return
        time.sleep(0.02)
    raise AssertionError("the push never waited on the other transaction")


@pytest.mark.parametrize("report_first", [False, True])
def test_a_units_report_and_its_photos_in_one_batch_reach_the_whole_unit(phone, make,
                                                                         report_first):
    """A unit contact photographs the repair and writes the report offline; the batch
    links them, so a colleague of the unit sees the photos as well."""
    office = make.unit()
    author, colleague = make.user("unit", unit=office), make.user("unit", unit=office)
    case = make.case(make.finding(make.check(make.user("supervisor"), make.site(office)),
                                  published=True))
    photos = [mutation("evidence", data={"kind": "photo", "sha256": f"{n}" * 64, "size": 10})
              for n in range(2)]
    report = mutation("rectification", data={
        "case_id": str(case.id), "report": "护栏已修复",
        "evidence_ids": [p["entity_id"] for p in photos]})
    batch = [report, *photos] if report_first else [*photos, report]
    results = phone(author).push(*batch)["results"]
    assert {r["status"] for r in results} == {"applied"}
    for p in photos:
        saved = db.session.get(Evidence, uuid.UUID(p["entity_id"]))
        assert str(saved.rectification_id) == report["entity_id"]
    seen = {c["entity_id"] for c in phone(colleague).pull() if c["type"] == "evidence"}
    assert seen == {p["entity_id"] for p in photos}
