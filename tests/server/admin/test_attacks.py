"""Attacks on the people desk: other roles, forged posts, guessed ids, markup, floods of
text and made-up roles change nothing, and each refusal says why, never a 500."""

import uuid

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import AuditEvent, Device, User
from server.roles import ROLES
from tests.conftest import login

from .conftest import events, fresh, pulls

ACTIONS = ("", "/password", "/disable", "/enable", "/devices/revoke")


def _posts(user_id, device_id) -> list[str]:
    return ([f"/admin/people/{user_id}{action}" for action in ACTIONS]
            + [f"/admin/people/{user_id}/devices/{device_id}/revoke", "/admin/people"])


def _trail() -> int:
    db.session.commit()
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_no_other_role_reaches_the_people_desk(make, desk, client, phone, role):
    victim = make.user("inspector", username="victim")
    token = phone(victim)
    device = db.session.scalar(sa.select(Device))
    other = desk(make.user(role))
    before = _trail()
    other.get("/admin/people", status=403)
    other.get(f"/admin/people/{victim.id}", status=403)
    for path in _posts(victim.id, device.id):
        other.post(path, {"username": "x", "name": "x", "role": "admin", "password": "p" * 9,
                          "generate": "1"}, status=403)
    assert _trail() == before and fresh(victim).active and pulls(client, token) == 200
    assert "/admin/people" not in other.page("/")  # no link to it either


def test_signed_out_visitors_are_sent_to_sign_in(make, client):
    victim = make.user("inspector")
    for path in ("/admin/people", f"/admin/people/{victim.id}"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.post(f"/admin/people/{victim.id}/disable").status_code in (302, 400)
    assert fresh(victim).active


def test_a_post_without_its_csrf_token_changes_nothing(make, desk, admin, phone, client):
    victim = make.user("inspector", username="victim")
    token = phone(victim)
    device = db.session.scalar(sa.select(Device))
    lead = desk(admin)
    before = _trail()
    for path in _posts(victim.id, device.id):
        lead.post(path, {"username": "forged", "name": "forged", "role": "admin",
                         "password": "forged-password"}, csrf=False, status=400)
    assert _trail() == before
    victim = fresh(victim)
    assert victim.active and victim.role == "inspector" and victim.name == "victim"
    assert pulls(client, token) == 200 and login(client, "victim").status_code == 201
    assert db.session.scalar(sa.select(User).where(User.username == "forged")) is None


def test_unknown_and_malformed_ids_are_not_found(make, desk, admin, phone, client):
    victim = make.user("inspector")
    other = make.user("inspector")
    token = phone(other)
    theirs = db.session.scalar(sa.select(Device).where(Device.user_id == other.id))
    lead = desk(admin)
    for guess in (uuid.uuid4(), "x", "1%20OR%201=1", "%00"):
        lead.get(f"/admin/people/{guess}", status=404)
        for path in _posts(guess, uuid.uuid4())[:-1]:
            lead.post(path, status=404)
    for guess in (uuid.uuid4(), "x", theirs.id):  # another person's phone is not theirs
        lead.post(f"/admin/people/{victim.id}/devices/{guess}/revoke", status=404)
    assert pulls(client, token) == 200 and not events("device_revoked")


def test_markup_in_names_is_shown_as_text(desk, admin):
    lead = desk(admin)
    lead.post("/admin/people", {"username": "<b>bold</b>", "name": "<script>alert(1)</script>",
                                "role": "inspector", "password": "long-enough-1"})
    made = db.session.scalar(sa.select(User).where(User.username == "<b>bold</b>"))
    for page in (lead.page("/admin/people"), lead.page(f"/admin/people/{made.id}")):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
        assert "&lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold" not in page


GOOD = {"username": "zhangwei", "name": "张伟", "role": "inspector", "unit": "", "phone": "",
        "password": "long-enough-1"}
BAD = [
    ({"username": "z" * 65}, "at most 64 characters"),
    ({"username": "z" * 100_000}, "at most 64 characters"),
    ({"username": "   "}, "must not be empty"),
    ({"username": "zhang wei"}, "spaces"),
    ({"name": "张" * 101}, "at most 100 characters"),
    ({"name": "张" * 100_000}, "at most 100 characters"),
    ({"name": ""}, "Give the person&#39;s name"),
    ({"name": "张\x00伟"}, "control characters"),
    ({"phone": "call me maybe"}, "phone number"),
    ({"role": "root"}, "Choose a role from the list"),
    ({"role": ""}, "Choose a role from the list"),
    ({"role": "unit"}, "A unit contact needs a unit"),
    ({"role": "unit", "unit": "x"}, "Choose a unit from the list"),
    ({"role": "unit", "unit": str(uuid.uuid4())}, "Choose a unit from the list"),
    ({"password": "short"}, "at least 8 characters"),
    ({"password": "p" * 257}, "at most 256 characters"),
    ({"username": "taken"}, "already taken"),
]


@pytest.mark.parametrize(("change", "said"), BAD, ids=[said for _c, said in BAD])
def test_a_bad_new_person_is_refused_in_words(make, desk, admin, change, said):
    make.user("inspector", username="taken")
    lead = desk(admin)
    before = _trail()
    page = lead.post("/admin/people", GOOD | change, status=409 if "taken" in said
                     else 422).get_data(as_text=True)
    assert said in page
    assert 'value="张伟"' in page or "name" in change  # the form keeps what was typed
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 2
    assert _trail() == before


@pytest.mark.parametrize(("change", "said"), [
    ({"name": "张" * 101}, "at most 100 characters"),
    ({"role": "root"}, "Choose a role from the list"),
    ({"role": "unit", "unit": ""}, "A unit contact needs a unit"),
    ({"phone": "1" * 33}, "phone number"),
])
def test_a_bad_change_is_refused_in_words_and_changes_nothing(make, desk, admin, phone, client,
                                                              change, said):
    li = make.user("supervisor", username="lisi")
    token = phone(li)
    lead = desk(admin)
    lead.post(f"/admin/people/{li.id}", {"name": "李四", "role": "supervisor"} | change)
    assert said in lead.page(f"/admin/people/{li.id}")
    li = fresh(li)
    assert (li.name, li.role, li.phone) == ("lisi", "supervisor", None)
    assert pulls(client, token) == 200 and not events("user_changed")


def test_a_bad_password_is_refused_in_words(make, desk, admin, client):
    li = make.user("reviewer", username="lisi")
    lead = desk(admin)
    for password, said in (("short", "at least 8"), ("p" * 5000, "at most 256")):
        lead.post(f"/admin/people/{li.id}/password", {"password": password})
        assert said in lead.page(f"/admin/people/{li.id}")
    assert login(client, "lisi").status_code == 201 and not events("password_set")


def test_odd_filters_are_ignored_not_failed(desk, admin):
    lead = desk(admin)
    for query in ("q=%00", "q=" + "x" * 10_000, "role=%00", "after=%00", "q=%25%27%22"):
        lead.get(f"/admin/people?{query}")
