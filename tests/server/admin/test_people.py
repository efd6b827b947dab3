"""The administrator at the people desk: the list with phones and last sync, a new person,
name, role and unit changed, passwords typed or made up, disabling and enabling, phones
revoked one by one; each change in the audit trail with the administrator as actor."""

import re

import sqlalchemy as sa

from server.extensions import db
from server.models import Device, User
from tests.conftest import PASSWORD, login

from .conftest import events, fresh, pulls


def _row(page: str, username: str) -> str:
    """The list's row of ``username``."""
    return next(row for row in re.findall(r"<tr>.*?</tr>", page, re.S) if f">{username}<" in row)


def test_the_list_counts_live_phones_and_filters_by_role_and_text(make, desk, admin, phone,
                                                                  client):
    wang = make.user("supervisor", username="wangfang")
    wang.name = "王芳"
    lost = phone(wang, "旧手机")
    phone(wang, "新手机")
    make.user("inspector", username="lisi")
    db.session.commit()
    lead = desk(admin)
    lead.post(f"/admin/people/{wang.id}/devices/"
              f"{_device(wang, '旧手机').id}/revoke")
    assert pulls(client, lost) == 401
    page = lead.page("/admin/people")
    row = _row(page, "wangfang")
    assert "王芳" in row and "<td>1</td>" in row  # one of two phones still signed in
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d</td></tr>", row)  # its last sync
    assert "never" in _row(page, "lisi")
    supervisors = lead.page("/admin/people?role=supervisor")
    assert ">wangfang<" in supervisors and ">lisi<" not in supervisors
    assert ">wangfang<" in lead.page("/admin/people?q=王")
    assert ">wangfang<" in lead.page("/admin/people?q=FANG")
    for nothing in ("%", "_", "zhang"):  # LIKE's wildcards are only characters here
        assert "No one matches." in lead.page(f"/admin/people?q={nothing}")
    assert ">wangfang<" in lead.page("/admin/people?role=root&q=")  # an unknown role: all


def _device(user, name) -> Device:
    db.session.commit()
    return db.session.scalar(sa.select(Device).where(Device.user_id == user.id,
                                                     Device.name == name))


def test_the_admin_creates_a_unit_contact_who_can_sign_in(make, desk, admin, client):
    unit = make.unit(code="XZSP", name="行政审批科")
    response = desk(admin).post("/admin/people", {
        "username": "zhaomin", "name": "赵敏", "role": "unit", "unit": str(unit.id),
        "phone": "+86 138-0000-0000", "password": "long-enough-1"})
    made = db.session.scalar(sa.select(User).where(User.username == "zhaomin"))
    assert response.headers["Location"].endswith(f"/admin/people/{made.id}")
    assert (made.name, made.role, made.unit_id, made.phone) == (
        "赵敏", "unit", unit.id, "+86 138-0000-0000")
    assert login(client, "zhaomin", "long-enough-1").status_code == 201
    created = events("user_created")[-1]
    assert created.actor_id == admin.id and created.subject_id == str(made.id)
    assert created.detail == {"username": "zhaomin", "role": "unit", "unit": "XZSP"}


def test_a_change_is_recorded_and_a_new_role_or_unit_signs_phones_out(make, desk, admin,
                                                                     phone, client):
    unit = make.unit(code="LDGL", name="路灯管理所")
    li = make.user("supervisor", username="lisi")
    token = phone(li)
    lead = desk(admin)
    lead.post(f"/admin/people/{li.id}", {"name": "李四", "role": "supervisor", "unit": "",
                                         "phone": "13800000000"})
    assert "Saved." in lead.page(f"/admin/people/{li.id}")
    assert pulls(client, token) == 200  # a new name keeps the phone signed in
    changed = events("user_changed")
    assert len(changed) == 1 and changed[0].actor_id == admin.id
    assert changed[0].detail == {"name": ["lisi", "李四"], "phone": [None, "13800000000"]}
    lead.post(f"/admin/people/{li.id}", {"name": "李四", "role": "unit", "unit": str(unit.id),
                                         "phone": "13800000000"})
    li = fresh(li)
    assert (li.role, li.unit_id) == ("unit", unit.id)
    assert events("user_changed")[-1].detail == {"role": ["supervisor", "unit"],
                                                 "unit": [None, "LDGL"]}
    assert pulls(client, token) == 401  # what it pulled was chosen for the old role
    assert events("devices_revoked")[-1].actor_id == admin.id
    lead.post(f"/admin/people/{li.id}", {"name": "李四", "role": "unit", "unit": str(unit.id),
                                         "phone": "13800000000"})
    assert "Nothing to change." in lead.page(f"/admin/people/{li.id}")
    assert len(events("user_changed")) == 2


def test_a_typed_or_made_up_password_replaces_the_old_and_ends_desk_sessions(make, desk, admin,
                                                                            client, phone):
    li = make.user("reviewer", username="lisi")
    theirs = desk(li)
    token = phone(li)
    lead = desk(admin)
    lead.post(f"/admin/people/{li.id}/password", {"password": "a-new-one-42"})
    theirs.get("/", status=302)  # sent to sign in
    assert pulls(client, token) == 200  # their phones stay signed in
    assert login(client, "lisi", PASSWORD).status_code == 401
    assert login(client, "lisi", "a-new-one-42").status_code == 201
    shown = lead.post(f"/admin/people/{li.id}/password", {"generate": "1"}, status=200)
    made = re.search(r"<code>([^<]+)</code>", shown.get_data(as_text=True)).group(1)
    assert len(made) == 12 and shown.headers["Cache-Control"] == "no-store"
    assert made not in lead.page(f"/admin/people/{li.id}")  # shown once
    assert login(client, "lisi", made).status_code == 201
    assert [e.actor_id for e in events("password_set")] == [admin.id, admin.id]


def test_disabling_signs_out_everywhere_and_enabling_lets_them_sign_in_anew(make, desk, admin,
                                                                           client, phone):
    li = make.user("inspector", username="lisi")
    theirs = desk(li)
    tokens = [phone(li, "手机一"), phone(li, "手机二")]
    lead = desk(admin)
    lead.post(f"/admin/people/{li.id}/disable")
    assert "2 phones revoked" in lead.page(f"/admin/people/{li.id}")
    assert "/login" in theirs.get("/", status=302).headers["Location"]
    assert [pulls(client, token) for token in tokens] == [401, 401]
    assert login(client, "lisi").status_code == 401
    assert "disabled" in _row(lead.page("/admin/people"), "lisi")
    assert events("user_disabled")[-1].actor_id == admin.id
    assert events("devices_revoked")[-1].detail == {"count": 2}
    lead.post(f"/admin/people/{li.id}/enable")
    assert fresh(li).active and events("user_enabled")[-1].actor_id == admin.id
    assert [pulls(client, token) for token in tokens] == [401, 401]  # no lost phone revives
    assert login(client, "lisi").status_code == 201


def test_revoking_one_phone_leaves_the_others_working(make, desk, admin, client, phone):
    li = make.user("supervisor", username="lisi")
    lost, kept = phone(li, "丢失的手机"), phone(li, "在用的手机")
    lead = desk(admin)
    device = _device(li, "丢失的手机")
    page = lead.page(f"/admin/people/{li.id}")
    assert "丢失的手机" in page and page.count(">Revoke</button>") == 2
    lead.post(f"/admin/people/{li.id}/devices/{device.id}/revoke")
    assert (pulls(client, lost), pulls(client, kept)) == (401, 200)
    revoked = events("device_revoked")
    assert len(revoked) == 1 and revoked[0].actor_id == admin.id
    assert revoked[0].subject_id == str(li.id)
    assert revoked[0].detail == {"device_id": str(device.id)}
    lead.post(f"/admin/people/{li.id}/devices/{device.id}/revoke")  # twice: said, not redone
    assert "already signed out" in lead.page(f"/admin/people/{li.id}")
    assert len(events("device_revoked")) == 1
    lead.post(f"/admin/people/{li.id}/devices/revoke")
    assert pulls(client, kept) == 401


def test_an_admin_cannot_lock_themselves_out(desk, admin):
    lead = desk(admin)
    lead.post(f"/admin/people/{admin.id}/disable")
    assert "You cannot disable your own account" in lead.page(f"/admin/people/{admin.id}")
    lead.post(f"/admin/people/{admin.id}", {"name": "管理员", "role": "reviewer"})
    assert "You cannot remove your own administrator role" in lead.page(
        f"/admin/people/{admin.id}")
    admin = fresh(admin)
    assert admin.active and admin.role == "admin"
    assert not events("user_disabled") and not events("user_changed")
    lead.post(f"/admin/people/{admin.id}", {"name": "管理员", "role": "admin"})
    assert fresh(admin).name == "管理员"
    lead.post(f"/admin/people/{admin.id}/password", {"password": "my-own-new-one"})
    assert "Your password is changed" in lead.page("/admin/people")  # still signed in here
