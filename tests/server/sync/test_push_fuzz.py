"""Whatever a phone sends in a push, the answer is a result per mutation or a 4xx problem
document: never a server error."""

import json
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.records import PUSHABLE

FIELDS = sorted({name for model in PUSHABLE.values() for name in model.model_fields}
                | {"created_by", "state", "id", "version", "colour"})
TYPES = ["check", "finding", "evidence", "case", "rectification", "site", "meeting", "x\x00"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
    st.sampled_from(["2026-11-30T09:12:03+08:00", "2026-11-30", "photo", "covert", "major",
                     "ab" * 32, str(uuid.uuid4()), "0001-01-01T00:00:00+01:00",
                     "9999-12-31T23:59:59-01:00", "a\x00b", "0001-01-01", "9999-12-31"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)


def _mutations(known_ids):
    ids = st.one_of(st.sampled_from(known_ids), st.builds(lambda: str(uuid.uuid4())))
    data = st.dictionaries(st.sampled_from(FIELDS), st.one_of(values, ids), max_size=6)
    return st.fixed_dictionaries({
        "id": st.builds(lambda: str(uuid.uuid4())), "type": st.sampled_from(TYPES),
        "op": st.sampled_from(["upsert", "delete", "merge"]), "entity_id": ids,
        "base_version": st.one_of(st.none(), st.integers(min_value=1, max_value=3)),
        "data": data})


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.data())
def test_a_push_of_anything_is_answered_without_a_server_error(phone, make, data):
    user = make.user("supervisor")
    site, category = make.site(), make.category()
    check = make.check(user, site)
    p = phone(user)
    known = [str(check.id), str(site.id), str(category.id), str(site.unit_id)]
    batch = data.draw(st.lists(_mutations(known), min_size=1, max_size=6))
    response = p.client.post("/api/v1/sync/push", headers=p.headers, data=json.dumps(
        {"device_id": p.device_id, "mutations": batch}), content_type="application/json")
    assert response.status_code in (200, 422), response.get_data(as_text=True)
    if response.status_code == 200:
        statuses = {r["status"] for r in response.json["results"]}
        assert statuses <= {"applied", "rejected", "conflict", "duplicate"}
    else:
        assert response.mimetype == "application/problem+json"
