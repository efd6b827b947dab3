"""The planning desk, and attacks on it: planners make, change, repeat and cancel plans;
a supervisor reads only the plans given to them; units and reviewers reach nothing;
forged posts, guessed ids and markup change nothing; a covert plan's title is on no
page a unit, a reviewer or an unassigned supervisor can open."""

import re
import uuid

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import AuditEvent, Plan


def _form(bureau, **fields):
    return {"title": "十二月暗访计划", "mode": "covert", "window_start": "2026-12-07T08:00",
            "window_end": "2026-12-11T18:00", "site_ids": [str(bureau.sites[4].id)],
            "assignee_ids": [str(bureau.supervisors[0].id)]} | fields


def _plans():
    db.session.expire_all()
    return db.session.scalars(sa.select(Plan).order_by(Plan.window_start)).all()


def test_a_planner_makes_changes_and_cancels_a_plan(app, bureau, desk):
    lead = desk(bureau.inspector)
    assert 'name="site_ids"' in lead.page("/plans/new")
    answer = lead.post("/plans/new", _form(bureau))
    (plan,) = _plans()
    assert answer.headers["Location"].endswith(f"/plans/{plan.id}")
    # The window is the bureau's time (Asia/Shanghai in the tests): 08:00 there is 00:00 UTC.
    assert plan.window_start.isoformat() == "2026-12-07T00:00:00+00:00"
    assert [u.username for u in plan.assignees] == ["sup0"]
    lead.post(f"/plans/{plan.id}", _form(bureau, assignee_ids=[str(bureau.supervisors[1].id)],
                                         title="改期"))
    (plan,) = _plans()
    assert plan.title == "改期" and [u.username for u in plan.assignees] == ["sup1"]
    page = lead.page("/plans?month=2026-12")
    assert "改期" in page and "2026-12-07" in page
    lead.post(f"/plans/{plan.id}/cancel")
    assert _plans()[0].deleted_at is not None
    assert "改期" not in lead.page("/plans?month=2026-12")
    actions = db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.subject_id == str(plan.id)).order_by(AuditEvent.id)).all()
    assert actions == ["plan_created", "plan_changed", "plan_cancelled"]


def test_a_weekly_plan_is_one_plan_a_week_and_its_rest_cancels_together(app, bureau, desk):
    lead = desk(bureau.compiler)
    lead.post("/plans/new", _form(bureau, title="周规划检查", weekly="1", weeks="4",
                                  window_start="2026-12-07T00:00", window_end=""))
    plans = _plans()
    assert len(plans) == 4 and len({p.series_id for p in plans}) == 1
    assert [p.window_start.date().isoformat() for p in plans] == [
        "2026-12-06", "2026-12-13", "2026-12-20", "2026-12-27"]  # Mondays 00:00 at +08:00
    assert plans[0].title == "周规划检查（12-07–12-13）"
    lead.post(f"/plans/{plans[2].id}/cancel", {"series": "1"})
    assert [p.deleted_at is None for p in _plans()] == [True, True, False, False]


@pytest.mark.parametrize("change, says", [
    ({"window_start": "2026-12-07T08:00", "window_end": "2026-12-01T08:00"}, "end"),
    ({"window_start": "yesterday"}, ""), ({"title": ""}, ""), ({"title": "x" * 201}, ""),
    ({"mode": "loud"}, ""), ({"site_ids": []}, ""), ({"site_ids": ["not-an-id"]}, ""),
    ({"site_ids": [str(uuid.uuid4())]}, ""), ({"weekly": "1", "weeks": "99"}, "26"),
    ({"weekly": "1", "weeks": "x"}, ""), ({"weekly": "1", "window_start": "2026-12-08T00:00"},
                                          ""),
])
def test_bad_plans_are_refused_with_a_message_and_change_nothing(app, bureau, desk, change,
                                                                 says):
    page = desk(bureau.compiler).post("/plans/new", _form(bureau, **change), status=200)
    text = page.get_data(as_text=True)
    assert 'class="flash error"' in text and says in text
    assert _plans() == []


def test_markup_in_a_title_is_text(app, bureau, desk):
    lead = desk(bureau.compiler)
    lead.post("/plans/new", _form(bureau, title="<script>alert(1)</script>"))
    page = lead.page("/plans?month=2026-12")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_a_supervisor_reads_only_their_own_plans_and_changes_none(app, bureau, desk):
    lead = desk(bureau.compiler)
    lead.post("/plans/new", _form(bureau))
    (plan,) = _plans()
    mine, other = desk(bureau.supervisors[0]), desk(bureau.supervisors[1])
    assert "十二月暗访计划" in mine.page("/plans?month=2026-12")
    page = mine.page(f"/plans/{plan.id}")
    assert "十二月暗访计划" in page and 'name="title"' not in page  # read only
    mine.post(f"/plans/{plan.id}", _form(bureau, title="我改的"), status=403)
    mine.post(f"/plans/{plan.id}/cancel", status=403)
    mine.get("/plans/new", status=403)
    assert "十二月暗访计划" not in other.page("/plans?month=2026-12")
    other.get(f"/plans/{plan.id}", status=404)
    assert _plans()[0].title == "十二月暗访计划" and _plans()[0].deleted_at is None


def test_units_and_reviewers_reach_no_plan_page(app, bureau, desk):
    desk(bureau.compiler).post("/plans/new", _form(bureau))
    (plan,) = _plans()
    for who in (bureau.contact, bureau.reviewer):
        them = desk(who)
        for path in ("/plans", "/plans/new", f"/plans/{plan.id}", "/plans/draw",
                     "/plans/coverage"):
            assert them.get(path, status=403).status_code == 403
        them.post("/plans/new", _form(bureau), status=403)
    assert len(_plans()) == 1


def test_a_post_without_its_csrf_token_changes_nothing(app, bureau, desk):
    lead = desk(bureau.compiler)
    lead.post("/plans/new", _form(bureau), status=400, csrf=False)
    assert _plans() == []
    lead.post("/plans/new", _form(bureau))
    (plan,) = _plans()
    lead.post(f"/plans/{plan.id}/cancel", status=400, csrf=False)
    assert _plans()[0].deleted_at is None


def test_guessed_ids_answer_404(app, bureau, desk):
    lead = desk(bureau.compiler)
    for ident in (uuid.uuid4(), "nonsense", "1%20OR%201=1"):
        lead.get(f"/plans/{ident}", status=404)
        lead.get(f"/plans/draws/{ident}", status=404)
        lead.post(f"/plans/{ident}/cancel", status=404)


def test_coverage_shows_the_units_not_checked(app, bureau, desk, make):
    make.check(bureau.inspector, bureau.sites[0])  # now: this month, the first unit
    page = desk(bureau.compiler).page("/plans/coverage")
    assert page.count('<span class="badge overdue">') == 2  # two units not checked
    rows = re.findall(r'<tr class="(mine)?">\s*<td rowspan="2">([^<]+)', page)
    unchecked_first = [name.strip() for _mark, name in rows][:2]
    assert unchecked_first == ["城市建设科", "路灯管理所"]
    assert desk(bureau.compiler).page("/plans/coverage?period=2026-Q4")
    bad = desk(bureau.compiler).page("/plans/coverage?period=<b>")
    assert "&lt;b&gt;" not in bad and 'class="flash error"' in bad


def _pages_of(app, browser) -> list[str]:
    """Every page without arguments the person may open."""
    paths = [r.rule for r in app.url_map.iter_rules()
             if "GET" in r.methods and not r.arguments and not r.rule.startswith(
                 ("/api/", "/static", "/field", "/files", "/healthz", "/logout"))]
    return [browser.client.get(p).get_data(as_text=True) for p in paths]


def test_a_covert_plan_is_on_no_page_an_outsider_can_open(app, bureau, desk, make):
    desk(bureau.compiler).post("/plans/new", _form(bureau, title="绝密暗访路灯管理所"))
    (plan,) = _plans()
    for who in (bureau.contact, bureau.reviewer, bureau.supervisors[3]):
        for page in _pages_of(app, desk(who)):
            assert "绝密暗访路灯管理所" not in page and str(plan.id) not in page
