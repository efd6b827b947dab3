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
