"""The administrator's desk in tests: browsers that read English (the words the tests look
for stay the same once the Chinese catalog has them), the trail's events, a phone's pull."""

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import AuditEvent, User
from tests.conftest import login
from tests.server.desk.conftest import Browser


@pytest.fixture
def desk(app):
    """``desk(user)``: a browser of its own, signed in as ``user``."""
    def sign_in(user):
        browser = Browser(app, user)
        browser.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        return browser
    return sign_in


@pytest.fixture
def admin(make):
    return make.user("admin", username="root-admin")


@pytest.fixture
def phone(client):
    """``phone(user, name)``: sign a phone in; its bearer header."""
    def sign_in(user, name="测试手机"):
        answer = login(client, user.username, device_name=name)
        assert answer.status_code == 201, answer.get_data(as_text=True)
        return {"Authorization": f"Bearer {answer.json['token']}"}
    return sign_in


def pulls(client, headers) -> int:
    """The status a phone's pull gets with these headers."""
    return client.get("/api/v1/sync/pull", headers=headers).status_code


def events(action: str) -> list[AuditEvent]:
    db.session.commit()
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).all()


def fresh(user) -> User:
    """The person as the database holds them now."""
    db.session.commit()
    db.session.expire_all()
    return db.session.get(User, user.id)
