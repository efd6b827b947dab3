"""Signing out, a new password and disabling end every session of the user; disabling
revokes every phone's token, so enabling again revives none."""

import re

import pytest
from flask.testing import FlaskClient

from server.auth import services
from server.extensions import db
from server.models import Device, User
from tests.conftest import PASSWORD, login


def _sign_in(client, username):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": username, "password": PASSWORD,
                                "csrf_token": token})


def _copy(app, client) -> FlaskClient:
    """Another browser holding a copy of the session cookie."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


@pytest.fixture
def signed_in(app, client, make):
    user = make.user()
    _sign_in(client, user.username)
    assert client.get("/").status_code == 200
    copy = _copy(app, client)
    assert copy.get("/").status_code == 200
    return user, copy


def test_a_cookie_copied_before_sign_out_no_longer_works(client, signed_in):
    _user, copy = signed_in
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/logout", data={"csrf_token": token})
    assert copy.get("/").status_code == 302


@pytest.mark.parametrize("ending", ["set_password", "disable"])
def test_a_new_password_or_disabling_ends_every_session(client, signed_in, ending):
    user, copy = signed_in
    user = db.session.get(User, user.id)
    if ending == "set_password":
        services.set_password(user, "another-long-one")
    else:
        services.disable(user)
    db.session.commit()
    assert client.get("/").status_code == 302 and copy.get("/").status_code == 302


def test_disabling_revokes_every_token_and_enabling_revives_none(client, make):
    user = make.user()
    tokens = [login(client, user.username, device_name=f"手机{n}").json["token"]
              for n in range(2)]
    user = db.session.get(User, user.id)
    assert services.disable(user) == 2
    db.session.commit()
    services.enable(db.session.get(User, user.id))
    db.session.commit()
    for token in tokens:
        response = client.get("/api/v1/sync/pull", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
    assert login(client, user.username).status_code == 201  # a new sign-in works


def test_the_command_line_disables_enables_and_revokes(runner, client, make):
    user = make.user(username="zhangwei")
    login(client, "zhangwei")
    result = runner.invoke(args=["user", "revoke-devices", "zhangwei"])
    assert result.exit_code == 0 and "1 device tokens" in result.output
    assert runner.invoke(args=["user", "disable", "zhangwei"]).exit_code == 0
    assert login(client, "zhangwei").status_code == 401
    assert runner.invoke(args=["user", "enable", "zhangwei"]).exit_code == 0
    assert login(client, "zhangwei").status_code == 201
    assert runner.invoke(args=["user", "set-password", "zhangwei", "--password",
                               "short"]).exit_code == 2
    assert runner.invoke(args=["user", "disable", "nobody"]).exit_code == 2
    revoked = db.session.scalars(db.select(Device.revoked_at).where(
        Device.user_id == user.id)).all()
    assert len(revoked) == 2 and revoked.count(None) == 1
