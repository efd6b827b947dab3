"""`python manage.py demo`: the demo bureau looks like the real one and loads only once."""

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest

from server.demo import data, services
from server.extensions import db
from server.models import Case, Category, Check, Finding, Plan, Rectification, Site, Unit, User
from tests.conftest import login

DESIGN_UNITS = {"局办公室", "机关党委", "建筑业管理科", "城市建设科", "村镇建设科", "房地产管理科",
                "物业管理科", "行政审批科", "计划财务科", "人事科", "建设工程质量安全监督站",
                "路灯管理所"}
YUNLONG = {"lat": (34.20, 34.29), "lon": (117.19, 117.33)}
BEIJING_TIME = timezone(timedelta(hours=8))


@pytest.fixture
def loaded(runner):
    """Run the command once; return its result."""
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return result


def _all(model):
    return db.session.scalars(db.select(model)).all()


def test_demo_has_the_bureaus_units_sites_and_people(loaded):
    units = _all(Unit)
    assert {unit.name for unit in units} == DESIGN_UNITS
    assert all(unit.code and unit.leader_name for unit in units)
    sites = _all(Site)
    assert 25 <= len(sites) <= 35
    for site in sites:
        assert YUNLONG["lat"][0] <= site.lat <= YUNLONG["lat"][1], site.name
        assert YUNLONG["lon"][0] <= site.lon <= YUNLONG["lon"][1], site.name
        assert site.radius_m > 0 and site.address
        assert site.kind != "office" or site.radius_m == 80
    names = " ".join(site.name for site in sites)
    for place in ("纺织东路", "美墅路", "梨园南路", "陈庄危桥", "碧水湾桥", "翟山佳美社区",
                  "恒天花园", "小李庄", "张庄村", "临黄", "史庄", "张小楼", "卧牛村"):
        assert place in names
    users = _all(User)
    assert sum(user.role == "supervisor" for user in users) == 10
    assert {user.unit_id for user in users if user.role == "unit"} == {u.id for u in units}
    assert {"inspector", "reviewer", "compiler", "admin"} <= {user.role for user in users}


def test_demo_prints_every_account_with_the_password(loaded):
    for username, role, name, _unit, _post in data.accounts():
        line = next(line for line in loaded.output.splitlines() if line.startswith(username))
        assert role in line and name in line
    assert "unit-bgs" in loaded.output and "局办公室" in loaded.output
    assert data.PASSWORD in loaded.output


def test_covert_plans_go_to_supervisors_only(loaded):
    plans = _all(Plan)
    covert = [plan for plan in plans if plan.mode == "covert"]
    assert covert and {plan.mode for plan in plans} == {"open", "covert"}
    for plan in covert:
        assert plan.assignees and {user.role for user in plan.assignees} == {"supervisor"}
        assert plan.sites


def test_checks_cover_a_month_within_their_plans(loaded):
    checks = _all(Check)
    assert 40 <= len(checks) <= 60
    starts = sorted(check.started_at for check in checks)
    assert timedelta(days=20) <= starts[-1] - starts[0] <= timedelta(days=31)
    assert starts[-1] <= datetime.now(UTC)
    assert {check.author.role for check in checks} == {"inspector", "supervisor"}
    for check in checks:
        local = check.started_at.astimezone(BEIJING_TIME)
        assert local.weekday() < 5 and 8 <= local.hour < 18
        assert check.started_at < check.ended_at
        assert check.location["lat"] and check.location["lon"]
        if check.plan:
            assert check.plan.window_start <= check.started_at
            assert check.ended_at <= check.plan.window_end
            assert check.site in check.plan.sites and check.author in check.plan.assignees
            assert check.mode == check.plan.mode
    assert sum(check.plan is not None for check in checks) > len(checks) * 0.8
    # Written once, complete: phones pull each record a single time, at version 1.
    assert {check.version for check in checks} == {1}


def _metres(location: dict, site: Site) -> float:
    north = (location["lat"] - site.lat) * 111_320
    east = (location["lon"] - site.lon) * 111_320 * math.cos(math.radians(site.lat))
    return math.hypot(north, east)


def test_checks_are_located_at_their_sites_a_few_just_outside(loaded):
    checks = _all(Check)
    ratios = [_metres(check.location, check.site) / check.site.radius_m for check in checks]
    outside = [ratio for ratio in ratios if ratio > 1]
    assert outside and len(outside) <= len(checks) / 5
    assert max(ratios) < 2  # slightly outside, not across town
    assert any("accuracy_m" in check.location for check in checks)


def test_findings_reference_categories_and_the_sites_units(loaded):
    findings = _all(Finding)
    checks = _all(Check)
    assert len(checks) / 5 <= len(findings) <= len(checks) / 2
    categories = {category.id for category in _all(Category)}
    for finding in findings:
        assert finding.category_id in categories
        assert finding.unit_id == finding.check.site.unit_id
        assert finding.description and finding.created_by == finding.check.created_by
    severities = [finding.severity for finding in findings]
    assert severities.count("major") in (1, 2)


def test_published_findings_have_cases_with_deadlines(loaded):
    published = [finding for finding in _all(Finding) if finding.published_at]
    assert 3 <= len(published) <= 8
    cases = {case.finding_id: case for case in _all(Case)}
    assert set(cases) == {finding.id for finding in published}
    for finding in published:
        case = cases[finding.id]
        assert finding.state == "confirmed"
        assert case.unit_id == finding.unit_id and case.leader_name == finding.unit.leader_name
        published_day = finding.published_at.astimezone(BEIJING_TIME).date()
        assert case.deadline == published_day + timedelta(
            days=finding.category.default_deadline_days)
    assert {"closed", "rectifying"} <= {case.status for case in cases.values()}
    rectifications = _all(Rectification)
    assert rectifications
    for rectification in rectifications:
        author = db.session.get(User, rectification.created_by)
        assert author.role == "unit" and author.unit_id == rectification.case.unit_id


def test_a_demo_account_signs_in_on_a_phone(runner, client):
    result = runner.invoke(args=["demo", "--password", "another-demo-pw"])
    assert result.exit_code == 0, result.output
    assert "another-demo-pw" in result.output
    response = login(client, "jiandu01", password="another-demo-pw", device_name="x")
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["user"]["role"] == "supervisor"


def test_running_demo_twice_adds_nothing(loaded, runner):
    models = (Unit, Site, User, Plan, Check, Finding, Case, Rectification, Category)
    before = {model: len(_all(model)) for model in models}
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0, again.output
    assert "已存在" in again.output and "jiandu10" in again.output
    assert data.PASSWORD in again.output
    db.session.expire_all()
    assert {model: len(_all(model)) for model in models} == before


def test_demo_refuses_a_database_with_its_usernames_taken(runner, make):
    make.user("admin", username="admin")
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 2
    assert "admin" in result.output
    assert not _all(Site) and len(_all(User)) == 1


def test_the_same_day_gives_the_same_demo(app):
    now = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)

    def story():
        services.load_demo(data.PASSWORD, now=now)
        checks = db.session.scalars(db.select(Check).order_by(Check.started_at)).all()
        told = [(c.site.code, c.author.username, c.started_at, c.notes) for c in checks]
        db.session.rollback()
        return told

    assert story() == story()
