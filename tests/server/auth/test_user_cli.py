"""`manage.py user …` as the administrator's desk's twin: each command ends what it should
(a browser's session, a phone's token), is in the audit trail as done by no one at a
desk, and a username nobody has changes nothing."""

import re

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import AuditEvent
from tests.conftest import PASSWORD, login


def _browser(app, username):
    browser = app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    browser.post("/login", data={"username": username, "password": PASSWORD,
                                 "csrf_token": token})
    assert browser.get("/").status_code == 200
    return browser


def _actions() -> list[tuple[str, object]]:
    db.session.commit()
    return db.session.execute(sa.select(AuditEvent.action, AuditEvent.actor_id).where(
        AuditEvent.action.not_in(("user_created", "sign_in", "device_signed_in")))
        .order_by(AuditEvent.id)).all()


def test_disable_from_the_command_line_ends_sessions_and_tokens(app, runner, client, make):
    make.user(username="zhangwei")
    browser = _browser(app, "zhangwei")
    token = login(client, "zhangwei").json["token"]
    result = runner.invoke(args=["user", "disable", "zhangwei"])
    assert result.exit_code == 0 and "1 device tokens revoked" in result.output
    assert browser.get("/").status_code == 302
    assert client.get("/api/v1/sync/pull",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 401
    runner.invoke(args=["user", "enable", "zhangwei"])
    assert _actions() == [("user_disabled", None), ("devices_revoked", None),
                          ("user_enabled", None)]


@pytest.mark.parametrize("command", ["disable", "enable", "revoke-devices", "set-password"])
def test_a_username_nobody_has_is_refused_and_changes_nothing(runner, make, command):
    make.user(username="zhangwei")
    result = runner.invoke(args=["user", command, "zhangwe", "--password", "long-enough-1"]
                           if command == "set-password" else ["user", command, "zhangwe"])
    assert result.exit_code == 2 and "no user is called zhangwe" in result.output
    assert _actions() == []
