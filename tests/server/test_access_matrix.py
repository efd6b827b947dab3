"""Every role against every route that exists: the declared access is the enforced one.

``EXPECTED`` is the reviewed decision for each endpoint. A new route fails this test
until it is added here, so nobody adds a route without deciding who may call it.
"""

import re
import uuid

import pytest

from server.access import PUBLIC
from server.roles import ALL, PLANNERS, REVIEWERS, ROLES, STAFF

EXPECTED = {
    "api.openapi": PUBLIC,
    "auth.login_device": PUBLIC,
    "auth.logout_device": ALL,
    "health.healthz": PUBLIC,
    "sync.push": ALL,
    "sync.pull": ALL,
    "evidence.show": ALL,
    "evidence.original": ALL,
    "evidence.derivative": ALL,
    "uploads.options_root": PUBLIC,
    "uploads.options_one": PUBLIC,
    "uploads.create": ALL,
    "uploads.head": ALL,
    "uploads.patch": ALL,
    "uploads.override": ALL,
    "uploads.terminate": ALL,
    "web.login": PUBLIC,
    "web.logout": ALL,
    "web.set_language": PUBLIC,
    "web.index": ALL,
    "review.review": REVIEWERS,
    "cases.confirm": REVIEWERS,
    "cases.dismiss": REVIEWERS,
    "cases.transition": REVIEWERS | {"unit", "inspector"},
    "cases.cases": STAFF | {"unit"},
    "desk_review.queue": REVIEWERS,
    "desk_review.accept_many": REVIEWERS,
    "desk_review.item": REVIEWERS,
    "desk_review.decide": REVIEWERS,
    "desk_cases.findings": STAFF,
    "desk_cases.finding": STAFF,
    "desk_cases.confirm": REVIEWERS,
    "desk_cases.dismiss": REVIEWERS,
    "desk_cases.cases": STAFF | {"unit"},
    "desk_cases.case": STAFF | {"unit"},
    "desk_cases.move": REVIEWERS | {"unit", "inspector"},
    "desk_cases.report": frozenset({"unit"}),
    "desk_cases.submit": frozenset({"unit"}),
    "desk_cases.record_photo": frozenset({"unit"}),
    "desk_cases.package": STAFF,
    "audit.events": frozenset({"compiler", "admin"}),
    "admin.people_list": frozenset({"admin"}),
    "admin.create": frozenset({"admin"}),
    "admin.person": frozenset({"admin"}),
    "admin.change": frozenset({"admin"}),
    "admin.password": frozenset({"admin"}),
    "admin.disable": frozenset({"admin"}),
    "admin.enable": frozenset({"admin"}),
    "admin.revoke_device": frozenset({"admin"}),
    "admin.revoke_devices": frozenset({"admin"}),
    "desk_bulletins.bulletins": frozenset({"compiler", "reviewer", "inspector", "unit"}),
    "desk_bulletins.compile_": frozenset({"compiler"}),
    "desk_bulletins.bulletin": frozenset({"compiler", "reviewer", "inspector", "unit"}),
    "desk_bulletins.edit": frozenset({"compiler"}),
    "desk_bulletins.publish": frozenset({"compiler"}),
    "desk_bulletins.render": frozenset({"compiler"}),
    "desk_bulletins.progress": frozenset({"compiler", "reviewer", "inspector", "unit"}),
    "desk_bulletins.download": frozenset({"compiler", "reviewer", "inspector", "unit"}),
    "desk_bulletins.unit_scores": frozenset({"compiler", "reviewer", "inspector", "unit"}),
    "desk_bulletins.set_deductions": frozenset({"compiler"}),
    "registry.units": frozenset({"admin"}),
    "registry.new_unit": frozenset({"admin"}),
    "registry.create_unit": frozenset({"admin"}),
    "registry.unit": frozenset({"admin"}),
    "registry.update_unit": frozenset({"admin"}),
    "registry.delete_unit": frozenset({"admin"}),
    "registry.sites": frozenset({"admin"}),
    "registry.new_site": frozenset({"admin"}),
    "registry.create_site": frozenset({"admin"}),
    "registry.site": frozenset({"admin"}),
    "registry.update_site": frozenset({"admin"}),
    "registry.categories": frozenset({"admin"}),
    "registry.new_category": frozenset({"admin"}),
    "registry.create_category": frozenset({"admin"}),
    "registry.category": frozenset({"admin"}),
    "registry.update_category": frozenset({"admin"}),
    "registry_import.form": frozenset({"admin"}),
    "registry_import.upload": frozenset({"admin"}),
    "registry_import.preview_page": frozenset({"admin"}),
    "registry_import.confirm": frozenset({"admin"}),
    "plans.create": PLANNERS,
    "plans.change": PLANNERS,
    "plans.cancel": PLANNERS,
    "desk_plans.plans": PLANNERS | {"supervisor"},
    "desk_plans.new": PLANNERS,
    "desk_plans.plan": PLANNERS | {"supervisor"},
    "desk_plans.cancel": PLANNERS,
    "desk_plans.draw": frozenset({"compiler"}),
    "desk_plans.draw_page": PLANNERS,
    "desk_plans.coverage_page": PLANNERS,
    # The field app's shell holds no data: everything comes through the phone API.
    "field.index": PUBLIC,
    "field.service_worker": PUBLIC,
    "field.icon": PUBLIC,
    "field.asset": PUBLIC,
}
SAMPLES = {"uuid": str(uuid.uuid4()), "code": "en"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:([^:<>]+):)?([^<>]+)>",
                      lambda m: SAMPLES.get(m.group(1) or "", SAMPLES.get(m.group(2), "x")),
                      rule.rule)
        # HEAD and OPTIONS come free with every route; count them where they are the route.
        methods = (rule.methods - {"HEAD", "OPTIONS"}) or (rule.methods - {"OPTIONS"}) \
            or rule.methods
        for method in sorted(methods):
            yield rule.endpoint, method, path


def test_every_route_has_a_reviewed_decision(app):
    endpoints = {endpoint for endpoint, _m, _p in _routes(app)}
    assert endpoints == set(EXPECTED)
    for endpoint in endpoints:
        assert app.view_functions[endpoint].access == EXPECTED[endpoint], endpoint


def _call(client, method, path, headers):
    return client.open(path, method=method, headers=headers, json={})


@pytest.mark.parametrize("role", [*ROLES, None])
def test_each_role_gets_exactly_the_declared_access(app, client, make, role):
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF has its own test; here only roles count
    user = make.user(role) if role else None
    for endpoint, method, path in _routes(app):
        expected = EXPECTED[endpoint]
        headers = {}
        if user is not None:
            if path.startswith("/api/"):
                headers = {"Authorization": f"Bearer {_token(client, user)}"}
            else:
                with client.session_transaction() as session:
                    session["_user_id"] = user.get_id()
                    session["_fresh"] = True
        response = _call(client, method, path, headers)
        allowed = expected == PUBLIC or (role is not None and role in expected)
        where = f"{role} {method} {path}"
        if allowed:
            assert response.status_code not in (401, 403), where
            assert response.status_code < 500, where
        elif role is None:
            api = path.startswith("/api/")
            assert response.status_code == (401 if api else 302), where
            if not api:
                assert "/login" in response.headers["Location"], where
        else:
            assert response.status_code == 403, where


def _token(client, user):
    response = client.post("/api/v1/auth/device", json={
        "username": user.username, "password": "correct-horse-42", "device_name": "matrix"})
    return response.json["token"]


def test_api_ignores_session_cookies(client, make):
    """A signed-in browser cannot call the API by cookie: only a bearer token counts."""
    user = make.user("compiler")
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
    assert client.delete("/api/v1/auth/device").status_code == 401


def test_pages_ignore_bearer_tokens(client, make):
    user = make.user("compiler")
    token = _token(client, user)
    response = client.get("/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_every_role_set_names_real_roles():
    for decision in EXPECTED.values():
        assert decision == PUBLIC or decision <= ALL
