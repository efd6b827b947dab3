"""Bad input gets a 4xx problem document a person can act on; never a 500 or a trace."""

import pytest

from server.extensions import db
from server.models import Device

LOGIN = "/api/v1/auth/device"


def _is_problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert {"type", "title", "status", "detail", "errors"} <= set(body)
    assert body["status"] == status and body["title"] and body["detail"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def _nothing_signed_in():
    assert db.session.scalar(db.select(db.func.count(Device.id))) == 0


def test_malformed_json_is_400(client):
    body = _is_problem(client.post(LOGIN, data="{not json", content_type="application/json"), 400)
    assert "JSON" in body["title"]
    _nothing_signed_in()


@pytest.mark.parametrize("payload", ["[]", '"text"', "42", "null"])
def test_a_body_that_is_not_an_object_is_400(client, payload):
    _is_problem(client.post(LOGIN, data=payload, content_type="application/json"), 400)


def test_missing_and_wrongly_typed_fields_are_listed(client):
    body = _is_problem(client.post(LOGIN, json={"username": 7, "device_name": "x"}), 422)
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert set(fields) == {"username", "password"}
    assert all(fields.values())


def test_unknown_fields_are_refused_by_name(client, make):
    user = make.user()
    body = _is_problem(client.post(LOGIN, json={"username": user.username, "password": "x",
                                                "device_name": "x", "remember": True}), 422)
    assert [e["field"] for e in body["errors"]] == ["remember"]
    _nothing_signed_in()


def test_body_that_is_not_json_is_415(client):
    _is_problem(client.post(LOGIN, data="username=a", content_type="text/plain"), 415)


def test_oversize_body_is_413(client, app):
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    body = _is_problem(client.post(LOGIN, data=big, content_type="application/json"), 413)
    assert str(app.config["MAX_CONTENT_LENGTH"]) in body["detail"]


def test_unknown_api_route_is_404_problem(client):
    _is_problem(client.get("/api/v1/no/such/thing"), 404)


def test_wrong_method_is_405_with_allow(client):
    response = client.put(LOGIN, json={})
    _is_problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_invalid_utf8_is_a_clear_error(client):
    response = client.post(LOGIN, data=b'{"username": "\xff"}', content_type="application/json")
    assert response.status_code in (400, 422)
    _is_problem(response, response.status_code)


def test_problems_are_chinese_by_default_and_english_on_request(client):
    zh = client.get("/api/v1/nothing-here")
    en = client.get("/api/v1/nothing-here", headers={"Accept-Language": "en"})
    assert zh.json["title"] != en.json["title"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh.json["title"])
    assert en.json["title"] == "Not found"


def test_unknown_page_is_an_html_page_not_a_trace(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"
