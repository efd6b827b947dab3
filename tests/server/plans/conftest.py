"""A small bureau for the plans' tests: three units with two sites each, the planners,
four supervisors (each from a unit), a reviewer and a unit contact."""

from types import SimpleNamespace

import pytest

from server.extensions import db
from server.registry.services import create_user
from tests.conftest import PASSWORD
from tests.server.desk.conftest import Browser
from tests.server.sync.conftest import phone  # noqa: F401  (a fixture the tests use)


@pytest.fixture
def bureau(make):
    units = [make.unit(name=name) for name in ("建筑业管理科", "城市建设科", "路灯管理所")]
    sites = [make.site(unit, name=f"{unit.name}点位{n}") for unit in units for n in (1, 2)]

    def supervisor(n, unit):
        return create_user(f"sup{n}", "supervisor", PASSWORD, name=f"监督员{n}",
                           unit_code=unit.code)

    supervisors = [supervisor(n, units[n % 3]) for n in range(4)]
    db.session.commit()
    return SimpleNamespace(
        units=units, sites=sites, supervisors=supervisors,
        compiler=make.user("compiler"), inspector=make.user("inspector"),
        reviewer=make.user("reviewer"), contact=make.user("unit", unit=units[2]))


@pytest.fixture
def desk(app):
    return lambda user: Browser(app, user)


def plan_body(bureau, **fields):
    return {"title": "十二月暗访计划", "mode": "covert",
            "window_start": "2026-12-07T08:00:00+08:00",
            "window_end": "2026-12-11T18:00:00+08:00",
            "site_ids": [str(bureau.sites[4].id)],
            "assignee_ids": [str(bureau.supervisors[0].id)]} | fields
