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


def _formatted(caplog) -> list[str]:
    from server.logs import FORMAT, Formatter

    formatter = Formatter(FORMAT)
    return [formatter.format(r) for r in caplog.records if r.name == "mingcha.request"]


def test_a_newline_in_the_path_cannot_forge_a_log_line(client, caplog):
    with caplog.at_level(logging.INFO, logger="mingcha.request"):
        client.get("/api/v1/x%0A2026-12-02 INFO mingcha.request GET /admin 200%0D")
    [line] = _formatted(caplog)
    assert "\n" not in line and "\r" not in line and "\\x0a2026-12-02" in line


def test_a_request_that_ends_in_a_database_error_still_gets_its_line(app, client, make,
                                                                     caplog):
    """The view commits (which expires the signed-in user), then its flush fails."""
    from server.access import allow
    from server.models import Unit
    from server.roles import ALL

    @allow(ALL)
    def broken():
        from server.extensions import db

        db.session.commit()
        db.session.add(Unit(code="DUP", name="重复"))
        db.session.flush()

    app.add_url_rule("/api/v1/test-broken", view_func=broken)
    make.unit(code="DUP")
    token = login(client, make.user().username).json["token"]
    with caplog.at_level(logging.INFO, logger="mingcha.request"):
        response = client.get("/api/v1/test-broken", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 500 and response.mimetype == "application/problem+json"
    [line] = [text for text in _formatted(caplog) if "test-broken" in text]
    assert "/api/v1/test-broken 500" in line and "user=-" not in line
