"""The registry desk's visitors: a browser signed in as someone, reading English."""

import pytest

from tests.server.desk.conftest import Browser


@pytest.fixture
def desk(app):
    """``desk(user)``: a browser signed in as ``user``, reading English."""
    def open_(user):
        browser = Browser(app, user)
        browser.post("/lang/en", {"next": "/"}, status=302)
        return browser
    return open_


@pytest.fixture
def admin(make, desk):
    return desk(make.user("admin"))
