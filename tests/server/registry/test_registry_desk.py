"""The registry at the administrator's desk: units and their contacts, sites and their
place, categories; each change audited and pulled by phones; and the attacks on it: other
roles, forged posts, guessed ids, markup, numbers out of range and pasted megabytes."""

import re
import uuid

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import AuditEvent, Category, DeductionTable, Site, Unit
from server.roles import ROLES
from tests.server.sync.conftest import Phone

BASE = "/admin/registry"


def _fresh(model, **where):
    db.session.commit()
    db.session.expire_all()
    return db.session.scalar(sa.select(model).filter_by(**where))


def _events(action: str) -> list[AuditEvent]:
    db.session.commit()
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).all()


def _pulled(phone: Phone, kind: str, entity_id) -> list[dict]:
    return [c for c in phone.pull() if c["type"] == kind and c["entity_id"] == str(entity_id)]


def _site_form(unit, **fields) -> dict:
    return {"code": "FZDL", "name": "纺织东路道路工程", "kind": "road", "unit_id": str(unit.id),
            "lat": "34.2612", "lon": "117.1865", "radius_m": "300", "address": "纺织东路"} | fields


# --- What the administrator does ---------------------------------------------------------

def test_a_unit_is_created_and_edited_audited_and_pulled_by_phones(admin, make, client):
    phone = Phone(client, make.user("inspector"))
    phone.pull()
    answer = admin.post(f"{BASE}/units", {"code": "JZK", "name": "建筑业管理科",
                                          "leader_name": "王建国"})
    unit = _fresh(Unit, code="JZK")
    assert answer.headers["Location"].endswith(f"{BASE}/units/{unit.id}")
    assert (unit.name, unit.leader_name) == ("建筑业管理科", "王建国")
    created = _events("unit_created")
    assert len(created) == 1 and created[0].actor_id == admin.user.id
    assert created[0].subject_id == str(unit.id)
    assert _pulled(phone, "unit", unit.id)[0]["data"]["name"] == "建筑业管理科"

    admin.post(f"{BASE}/units/{unit.id}", {"code": "JZK", "name": "建筑业管理科（二）",
                                           "leader_name": "李振华", "version": unit.version})
    unit = _fresh(Unit, code="JZK")
    assert (unit.name, unit.leader_name) == ("建筑业管理科（二）", "李振华")
    changed = _events("unit_changed")
    assert changed[0].detail["changed"]["leader_name"] == ["王建国", "李振华"]
    assert _pulled(phone, "unit", unit.id)[0]["data"]["leader_name"] == "李振华"
    assert "建筑业管理科（二）" in admin.page(BASE)


def test_a_site_is_created_and_a_phone_pull_sees_its_edit(admin, make, client):
    unit, other = make.unit(code="CJK"), make.unit(code="JZK")
    inspector_phone = Phone(client, make.user("inspector"))
    contact_phone = Phone(client, make.user("unit", unit=unit))
    stranger_phone = Phone(client, make.user("unit", unit=other))
    for phone in (inspector_phone, contact_phone, stranger_phone):
        phone.pull()
    admin.post(f"{BASE}/sites", _site_form(unit))
    site = _fresh(Site, code="FZDL")
    assert (site.kind, site.unit_id, site.lat, site.lon, site.radius_m) == (
        "road", unit.id, 34.2612, 117.1865, 300)
    assert _events("site_created")[0].detail["radius_m"] == 300

    admin.post(f"{BASE}/sites/{site.id}", _site_form(
        unit, name="纺织东路道路工程（二期）", radius_m="450", version=site.version))
    site = _fresh(Site, code="FZDL")
    assert (site.name, site.radius_m) == ("纺织东路道路工程（二期）", 450)
    assert _events("site_changed")[0].detail["changed"]["radius_m"] == [300, 450]
    for phone in (inspector_phone, contact_phone):
        data = _pulled(phone, "site", site.id)[-1]["data"]
        assert (data["name"], data["radius_m"]) == ("纺织东路道路工程（二期）", 450)
    assert _pulled(stranger_phone, "site", site.id) == []  # another unit's site


def test_a_category_is_created_and_edited_and_pulled(admin, make, client):
    phone = Phone(client, make.user("supervisor"))
    phone.pull()
    admin.post(f"{BASE}/categories", {"code": "sign_in", "name_zh": "未按规定签到",
                                      "name_en": "Sign-in rules broken",
                                      "default_severity": "general",
                                      "default_deadline_days": "3", "position": "20"})
    category = _fresh(Category, code="sign_in")
    assert (category.default_deadline_days, category.position) == (3, 20)
    admin.post(f"{BASE}/categories/{category.id}", {
        "code": "sign_in", "name_zh": "未按规定签到", "name_en": "Sign-in rules broken",
        "default_severity": "major", "default_deadline_days": "5", "position": "20",
        "version": category.version})
    category = _fresh(Category, code="sign_in")
    assert (category.default_severity, category.default_deadline_days) == ("major", 5)
    assert [e.action for e in _events("category_created") + _events("category_changed")] == [
        "category_created", "category_changed"]
    assert _pulled(phone, "category", category.id)[-1]["data"]["default_severity"] == "major"
    assert "未按规定签到" in admin.page(f"{BASE}/categories")


def test_a_unit_page_lists_its_contacts_and_nothing_else_of_them(admin, make):
    unit = make.unit(code="JZK", name="建筑业管理科")
    contact = make.user("unit", unit=unit, username="liuyang")
    make.user("unit", username="elsewhere")
    page = admin.page(f"{BASE}/units/{unit.id}")
    assert "liuyang" in page and "elsewhere" not in page
    assert f"/admin/people/{contact.id}" not in page


def test_a_unit_in_use_is_kept_and_the_refusal_says_why(admin, make, client):
    unit = make.unit(code="JZK")
    make.site(unit)
    make.user("unit", unit=unit)
    answer = admin.post(f"{BASE}/units/{unit.id}/delete")
    assert answer.headers["Location"].endswith(f"/units/{unit.id}")
    page = admin.page(f"{BASE}/units/{unit.id}")
    assert "cannot be deleted: 1 site, 1 contact still name it" in page
    assert _fresh(Unit, code="JZK").deleted_at is None and _events("unit_deleted") == []


def test_a_unit_with_findings_is_kept_for_the_bulletins(admin, make):
    unit, elsewhere = make.unit(code="JZK"), make.unit(code="CJK")
    site = make.site(elsewhere)
    make.finding(make.check(make.user("inspector"), site), unit=unit)
    admin.post(f"{BASE}/units/{unit.id}/delete")
    assert "1 finding" in admin.page(f"{BASE}/units/{unit.id}")
    assert _fresh(Unit, code="JZK").deleted_at is None


def test_an_unused_unit_is_deleted_and_phones_are_told_and_its_code_brings_it_back(
        admin, make, client):
    phone = Phone(client, make.user("inspector"))
    unit = make.unit(code="LDS", name="路灯管理所")
    phone.pull()
    answer = admin.post(f"{BASE}/units/{unit.id}/delete")
    assert answer.headers["Location"].endswith(BASE)
    assert _fresh(Unit, code="LDS").deleted_at is not None
    assert _events("unit_deleted")[0].subject_id == str(unit.id)
    assert [c["op"] for c in _pulled(phone, "unit", unit.id)] == ["delete"]
    admin.get(f"{BASE}/units/{unit.id}", status=404)
    assert "路灯管理所" not in admin.page(BASE)

    admin.post(f"{BASE}/units", {"code": "LDS", "name": "路灯管理所（恢复）"})
    back = _fresh(Unit, code="LDS")
    assert back.id == unit.id and back.deleted_at is None and back.name == "路灯管理所（恢复）"
    assert _events("unit_restored")
    assert [c["op"] for c in _pulled(phone, "unit", unit.id)] == ["upsert"]


def test_the_sites_list_filters_by_unit_and_text(admin, make):
    road, office = make.unit(code="CJK"), make.unit(code="JZK")
    make.site(road, name="纺织东路道路工程", code="FZDL")
    make.site(road, name="美墅路道路工程", code="MSL")
    make.site(office, name="建筑业管理科办公室", code="JZK-OFFICE")
    by_unit = admin.page(f"{BASE}/sites?unit_id={road.id}")
    assert "纺织东路" in by_unit and "美墅路" in by_unit and "办公室" not in by_unit
    by_text = admin.page(f"{BASE}/sites?q=美墅")
    assert "美墅路" in by_text and "纺织东路" not in by_text
    assert "纺织东路" not in admin.page(f"{BASE}/sites?q=%25")  # a wildcard is a character
    assert admin.page(f"{BASE}/sites?unit_id=nonsense&q=" + "x" * 5000)  # ignored, no 500


def test_a_stale_form_does_not_overwrite_a_newer_save(admin, make):
    unit = make.unit(code="JZK", name="建筑业管理科")
    seen = unit.version
    admin.post(f"{BASE}/units/{unit.id}", {"code": "JZK", "name": "新名称", "version": seen})
    admin.post(f"{BASE}/units/{unit.id}", {"code": "JZK", "name": "旧表单", "version": seen},
               status=409)
    assert _fresh(Unit, code="JZK").name == "新名称"


def test_a_code_already_taken_is_refused(admin, make):
    make.unit(code="JZK")
    other = make.unit(code="CJK")
    page = admin.post(f"{BASE}/units", {"code": "JZK", "name": "重复"}, status=409)
    assert "The code JZK is already taken." in page.get_data(as_text=True)
    admin.post(f"{BASE}/units/{other.id}", {"code": "JZK", "name": "城市建设科",
                                            "version": other.version}, status=409)
    assert _fresh(Unit, id=other.id).code == "CJK"


def test_a_category_code_a_deduction_table_names_is_kept(admin, make):
    category = make.category("site_safety")
    db.session.add(DeductionTable(effective_from="2026-01", rules={
        "general": 1, "major": 5, "overdue": 1, "categories": {"site_safety": {"major": 8}}}))
    db.session.commit()
    answer = admin.post(f"{BASE}/categories/{category.id}", {
        "code": "safety", "name_zh": category.name_zh, "name_en": category.name_en,
        "default_severity": "major", "default_deadline_days": "7", "position": "8",
        "version": category.version}, status=409)
    assert "deduction table" in answer.get_data(as_text=True)
    assert _fresh(Category, id=category.id).code == "site_safety"


# --- Input that must be refused ----------------------------------------------------------

@pytest.mark.parametrize(("fields", "named", "said"), [
    ({"lat": "91"}, "lat", "A latitude from -90 to 90 degrees"),
    ({"lat": "-90.5"}, "lat", "A latitude from -90 to 90 degrees"),
    ({"lon": "181"}, "lon", "A longitude from -180 to 180 degrees"),
    ({"lat": "nan"}, "lat", "A latitude"),
    ({"lon": "1e999"}, "lon", "A longitude"),
    ({"lat": "北纬34度"}, "lat", "A latitude"),
    ({"lon": ""}, "lon", "A longitude"),  # a latitude without a longitude
    ({"radius_m": "0"}, "radius_m", "A whole number of metres from 1 to 5000"),
    ({"radius_m": "5001"}, "radius_m", "from 1 to 5000"),
    ({"radius_m": "12.5"}, "radius_m", "A whole number of metres"),
    ({"radius_m": "9" * 5000}, "radius_m", "A whole number of metres"),
    ({"kind": "castle"}, "kind", "Choose the kind of site."),
    ({"unit_id": str(uuid.uuid4())}, "unit_id", "Choose the unit"),
    ({"name": "工" * 201}, "name", "At most 200 characters."),
    ({"name": "工" * 100_000}, "name", "At most 200 characters."),
    ({"name": "纺织\x00东路"}, "name", "Remove the control characters"),
    ({"code": ""}, "code", "Fill this in."),
])
def test_bad_site_fields_are_refused_by_name_and_nothing_is_saved(admin, make, fields, named,
                                                                   said):
    unit = make.unit()
    answer = admin.post(f"{BASE}/sites", _site_form(unit, **fields), status=422)
    page = answer.get_data(as_text=True)
    assert re.search(rf'id="{named}-error">[^<]*{re.escape(said)}', page), page
    assert _fresh(Site, code="FZDL") is None and _events("site_created") == []


def test_a_site_may_wait_for_its_place(admin, make):
    admin.post(f"{BASE}/sites", _site_form(make.unit(), lat="", lon=""))
    site = _fresh(Site, code="FZDL")
    assert (site.lat, site.lon) == (None, None)


def test_an_edit_with_bad_fields_changes_nothing(admin, make):
    site = make.site(name="纺织东路道路工程")
    admin.post(f"{BASE}/sites/{site.id}", _site_form(site.unit, code=site.code, name="改名",
                                                      lat="91", version=site.version),
               status=422)
    assert _fresh(Site, id=site.id).name == "纺织东路道路工程"


@pytest.mark.parametrize(("fields", "named"), [
    ({"default_deadline_days": "0"}, "default_deadline_days"),
    ({"default_deadline_days": "366"}, "default_deadline_days"),
    ({"default_severity": "critical"}, "default_severity"),
    ({"position": "-1"}, "position"),
    ({"name_en": ""}, "name_en"),
    ({"code": "x" * 33}, "code"),
])
def test_bad_category_fields_are_refused(admin, fields, named):
    form = {"code": "sign_in", "name_zh": "签到", "name_en": "Sign-in",
            "default_severity": "general", "default_deadline_days": "3", "position": "1"}
    page = admin.post(f"{BASE}/categories", form | fields, status=422).get_data(as_text=True)
    assert f'id="{named}-error"' in page
    assert _fresh(Category, code="sign_in") is None


def test_markup_in_names_is_shown_as_text(admin, make):
    unit = make.unit(code="X1", name="<script>alert(1)</script>")
    site = make.site(unit, name='"><img src=x onerror=alert(2)>')
    pages = [admin.page(path) for path in (BASE, f"{BASE}/units/{unit.id}", f"{BASE}/sites",
                                           f"{BASE}/sites/{site.id}", f"{BASE}/sites/new")]
    for page in pages:
        assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0]
    assert "&#34;&gt;&lt;img src=x" in pages[3] or "&quot;&gt;&lt;img src=x" in pages[3]


# --- Who may do it, and forged requests --------------------------------------------------

def _routes(unit, site, category) -> list[tuple[str, str]]:
    return [("GET", BASE), ("GET", f"{BASE}/units/new"), ("POST", f"{BASE}/units"),
            ("GET", f"{BASE}/units/{unit.id}"), ("POST", f"{BASE}/units/{unit.id}"),
            ("POST", f"{BASE}/units/{unit.id}/delete"), ("GET", f"{BASE}/sites"),
            ("GET", f"{BASE}/sites/new"), ("POST", f"{BASE}/sites"),
            ("GET", f"{BASE}/sites/{site.id}"), ("POST", f"{BASE}/sites/{site.id}"),
            ("GET", f"{BASE}/categories"), ("GET", f"{BASE}/categories/new"),
            ("POST", f"{BASE}/categories"), ("GET", f"{BASE}/categories/{category.id}"),
            ("POST", f"{BASE}/categories/{category.id}"), ("GET", f"{BASE}/import"),
            ("POST", f"{BASE}/import"), ("GET", f"{BASE}/import/{'a' * 32}"),
            ("POST", f"{BASE}/import/{'a' * 32}")]


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_every_other_role_is_refused_on_every_route(desk, make, role):
    unit = make.unit(code="JZK", name="建筑业管理科")
    site, category = make.site(unit), make.category()
    person = desk(make.user(role))
    token = person.token()
    for method, path in _routes(unit, site, category):
        data = {"csrf_token": token, "code": "HACK", "name": "改", "version": "1"}
        answer = person.client.open(path, method=method, data=data)
        assert answer.status_code == 403, (role, method, path, answer.status_code)
    assert _fresh(Unit, id=unit.id).name == "建筑业管理科" and _events("unit_changed") == []
    assert _fresh(Unit, code="HACK") is None


def test_signed_out_visitors_are_sent_to_sign_in(client, make):
    unit = make.unit()
    for method, path in _routes(unit, make.site(unit), make.category()):
        answer = client.open(path, method=method)
        assert answer.status_code in (302, 400), (method, path)  # a post also lacks its CSRF
        if answer.status_code == 302:
            assert "/login" in answer.headers["Location"]


def test_a_post_without_its_csrf_token_changes_nothing(admin, make):
    unit = make.unit(code="LDS", name="路灯管理所")
    site = make.site(make.unit(code="CJK"))
    category = make.category()
    posts = [(f"{BASE}/units", {"code": "NEW", "name": "新"}),
             (f"{BASE}/units/{unit.id}", {"code": "LDS", "name": "改", "version": unit.version}),
             (f"{BASE}/units/{unit.id}/delete", {}),
             (f"{BASE}/sites", _site_form(unit, code="NEWSITE")),
             (f"{BASE}/sites/{site.id}", _site_form(unit, code=site.code, version=site.version)),
             (f"{BASE}/categories/{category.id}", {"code": "x", "version": category.version})]
    for path, data in posts:
        admin.post(path, data, status=400, csrf=False)
    assert _fresh(Unit, code="LDS").name == "路灯管理所"
    assert _fresh(Unit, code="LDS").deleted_at is None
    assert _fresh(Unit, code="NEW") is None and _fresh(Site, code="NEWSITE") is None
    assert _fresh(Site, id=site.id).unit.code == "CJK"
    assert _events("unit_changed") == [] and _events("unit_deleted") == []


@pytest.mark.parametrize("ident", ["nonsense", "1d9a71e9-e61c-4e48-a923-2c606405a26a", "1",
                                   "%00", "a" * 500])
def test_unknown_or_malformed_ids_are_not_found(admin, ident):
    for kind in ("units", "sites", "categories"):
        admin.get(f"{BASE}/{kind}/{ident}", status=404)
        admin.post(f"{BASE}/{kind}/{ident}", {"code": "X", "version": "1"}, status=404)
    admin.post(f"{BASE}/units/{ident}/delete", status=404)


def test_a_deleted_site_is_not_found(admin, make):
    site = make.site()
    site.deleted_at = site.created_at
    db.session.commit()
    admin.get(f"{BASE}/sites/{site.id}", status=404)
    assert site.name not in admin.page(f"{BASE}/sites")


# --- The map -----------------------------------------------------------------------------

def test_without_a_tile_server_the_site_form_has_no_map_and_asks_nothing_outside(admin, make):
    site = make.site()
    for path in (f"{BASE}/sites/new", f"{BASE}/sites/{site.id}"):
        answer = admin.get(path)
        page = answer.get_data(as_text=True)
        assert "data-picker" not in page and "registry.js" not in page
        assert not re.search(r'(src|href)="(https?:)?//', page)
        assert "img-src 'self' data: blob:;" in answer.headers["Content-Security-Policy"]


def test_with_a_tile_server_the_site_form_has_a_map_the_policy_allows(admin, make, app):
    app.config["MAP_TILE_URL"] = "https://tiles.example.gov.cn/{z}/{x}/{y}.png"
    make.site(lat=34.26, lon=117.18)
    answer = admin.get(f"{BASE}/sites/new")
    page = answer.get_data(as_text=True)
    assert 'data-tiles="https://tiles.example.gov.cn/{z}/{x}/{y}.png"' in page
    assert 'data-lat="34.26" data-lon="117.18" data-zoom="13"' in page  # amid the sites
    assert '<script src="/static/registry.js"></script>' in page
    assert "img-src 'self' https://tiles.example.gov.cn" in \
        answer.headers["Content-Security-Policy"]
    assert admin.get("/static/registry.js").status_code == 200
