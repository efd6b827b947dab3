"""One log line per request, with a request id; never a token or a password."""

import logging

from tests.conftest import PASSWORD, login


def test_one_line_per_request_with_request_id(client, caplog):
    with caplog.at_level(logging.INFO, logger="mingcha.request"):
        response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    lines = [r.getMessage() for r in caplog.records if r.name == "mingcha.request"]
    assert len(lines) == 1 and "rid=abc-123" in lines[0] and "/healthz 200" in lines[0]
    assert response.headers["X-Request-ID"] == "abc-123"


def test_hostile_request_id_is_replaced(client):
    response = client.get("/healthz", headers={"X-Request-ID": "x y; user=admin " + "z" * 100})
    assert response.headers["X-Request-ID"].isalnum()


def test_tokens_and_passwords_never_reach_the_log(client, make, caplog):
    user = make.user()
    with caplog.at_level(logging.DEBUG):
        token = login(client, user.username).json["token"]
        login(client, user.username, "a-wrong-secret")
        client.delete("/api/v1/auth/device", headers={"Authorization": f"Bearer {token}"})
        client.get(f"/api/v1/nothing?token={token}")
    text = caplog.text
    assert token not in text and PASSWORD not in text and "a-wrong-secret" not in text
