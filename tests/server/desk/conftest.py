"""A bureau in small for the desk's tests: a unit with a contact, a site, a covert check
under a plan with a finding and evidence in each state a reviewer meets."""

from dataclasses import dataclass

import pytest

from server.extensions import db
from tests.server.sync.conftest import Phone


@dataclass
class Bureau:
    unit: object
    contact: object
    other_contact: object
    inspector: object
    supervisor: object
    reviewer: object
    compiler: object
    site: object
    plan: object
    check: object
    finding: object
    photo: object      # ready, attached to the finding
    pending: object    # still being uploaded


@pytest.fixture
def bureau(make):
    unit = make.unit(name="建筑业管理科")
    site = make.site(unit, name="纺织东路道路工程")
    inspector = make.user("inspector")
    plan = make.plan([site], [inspector], mode="covert", by=inspector)
    plan.title = "十一月暗访纺织东路"
    check = make.check(inspector, site, plan=plan)
    finding = make.finding(check)
    photo = make.evidence(check, finding)
    photo.state, photo.geofence = "ready", "inside"
    pending = make.evidence(check)
    db.session.commit()
    return Bureau(unit, make.user("unit", unit=unit), make.user("unit"), inspector,
                  make.user("supervisor"), make.user("reviewer"), make.user("compiler"),
                  site, plan, check, finding, photo, pending)


@pytest.fixture
def desk(client):
    """``desk(user)``: a phone-like client signed in as ``user``, with ``call``."""
    return lambda user: Desk(client, user)


class Desk(Phone):
    def call(self, method, path, body=None, status=None):
        response = self.client.open(path, method=method, headers=self.headers, json=body)
        if status is not None:
            assert response.status_code == status, response.get_data(as_text=True)
        return response


class Browser:
    """A person at the desk: a browser of their own (cookies), signed in by the form."""

    def __init__(self, app, user):
        from tests.conftest import PASSWORD, IsolatedClient

        app.test_client_class = IsolatedClient
        self.client, self.user = app.test_client(), user
        token = _csrf(self.client.get("/login").get_data(as_text=True))
        signed = self.client.post("/login", data={"username": user.username,
                                                  "password": PASSWORD, "csrf_token": token})
        assert signed.status_code == 302, signed.get_data(as_text=True)

    def get(self, path, status=200, **kwargs):
        response = self.client.get(path, **kwargs)
        assert response.status_code == status, (path, response.status_code)
        return response

    def page(self, path, status=200) -> str:
        return self.get(path, status).get_data(as_text=True)

    def token(self) -> str:
        return _csrf(self.page("/"))

    def post(self, path, data=None, status=303, csrf=True):
        data = dict(data or {})
        if csrf:
            data["csrf_token"] = self.token()
        response = self.client.post(path, data=data)
        assert response.status_code == status, (path, response.status_code,
                                                response.get_data(as_text=True)[:2000])
        return response


def _csrf(page: str) -> str:
    import re

    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


@pytest.fixture
def browser(app):
    return lambda user: Browser(app, user)
