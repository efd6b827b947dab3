"""The planning desk and the people desk in a real browser (Debian's chromium, driven by
Playwright), at a desk's width and a phone's: the compiler makes a covert random draw
(双随机) for a week, and the page says the draw was made again from the audit trail with
the same result; the two supervisors drawn pull the plan on their phones, nobody else does;
a drawn supervisor reads it on a phone's width, an undrawn one and the unit's contact never
see it; the administrator disables the drawn supervisor, and their phone's token and their
desk session end at once. The compiler's calendar and draw form fit a phone.

Screenshots of every screen go to ``artifacts/plans/`` (or ``$MINGCHA_ARTIFACTS``), kept by
CI as test artifacts, never committed.
"""

import json
import re
from datetime import date, timedelta

import httpx
import sqlalchemy as sa

from server.extensions import db
from server.models import Draw, Plan
from server.zone import bureau_today
from tests.conftest import PASSWORD
from tests.e2e.desk import DESK, PHONE, Person, Shots
from tests.server.plans import conftest as plans_data

UUID = r"[0-9a-f-]{36}"

bureau = plans_data.bureau  # 3 units, 6 sites, 4 supervisors, the planners, a unit contact


class PhoneApi:
    """A phone signed in through the API of the live server, pulling as the app does."""

    def __init__(self, base, user):
        self.http = httpx.Client(base_url=base, timeout=20)
        answer = self.http.post("/api/v1/auth/device", json={
            "username": user.username, "password": PASSWORD, "device_name": "计划测试手机"})
        assert answer.status_code == 201, answer.text
        self.headers = {"Authorization": f"Bearer {answer.json()['token']}"}

    def pull_page(self, cursor=None):
        params = {"limit": 100} | ({"cursor": cursor} if cursor else {})
        return self.http.get("/api/v1/sync/pull", headers=self.headers, params=params)

    def pull(self) -> tuple[list[dict], str]:
        """Every change from the start, following ``more``; and every answer as text, its
        Chinese unescaped, to search for what must not be there."""
        changes, bodies, cursor = [], [], None
        while True:
            answer = self.pull_page(cursor)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            changes += body["changes"]
            bodies.append(json.dumps(body, ensure_ascii=False))
            cursor = body["cursor"]
            if not body["more"]:
                return changes, "\n".join(bodies)

    def close(self):
        self.http.close()


def _week_after_next() -> tuple[str, date]:
    """The ISO week two weeks from today (``2026-W51``) and its Monday; three weeks when
    that one ends a quarter, since such a draw must reach every unit left unchecked."""
    for ahead in (2, 3):
        year, week, _day = (bureau_today() + timedelta(weeks=ahead)).isocalendar()
        monday = date.fromisocalendar(year, week, 1)
        if ((monday + timedelta(weeks=1)).month - 1) // 3 == (monday.month - 1) // 3:
            break
    return f"{year}-W{week:02}", monday


def _drawn() -> tuple[Draw, Plan]:
    """The one draw the browser made and its one plan, as the server committed them."""
    db.session.commit()
    db.session.expire_all()
    found = db.session.scalars(sa.select(Draw)).all()
    assert len(found) == 1
    plans = db.session.scalars(sa.select(Plan).where(Plan.draw_id == found[0].id)).all()
    assert len(plans) == 1  # one check a week, one week
    return found[0], plans[0]


def test_a_covert_draw_reaches_only_its_supervisors_until_one_is_disabled(
        app, make, live_server, phone_browser, bureau, backend):
    shots = Shots(backend, "plans")
    admin_user = make.user("admin")  # made before the server writes: SQLite has one writer
    period, monday = _week_after_next()
    month = monday.strftime("%Y-%m")

    # 1280 px: the compiler draws one covert check for the week, a team of two.
    lead = Person(phone_browser, live_server, bureau.compiler, DESK, shots)
    lead.go(f"/plans?month={month}")
    lead.page.click("main a[href$='/plans/draw']")
    lead.page.wait_for_url("**/plans/draw")
    lead.page.fill("input[name=period]", period)
    lead.page.check("input[name=mode][value=covert]")
    lead.page.fill("input[name=per_week]", "1")
    lead.page.fill("input[name=team]", "2")
    boxes = lead.page.locator("input[name=site_ids], input[name=people_ids]")
    assert boxes.count() == len(bureau.sites) + len(bureau.supervisors)
    for n in range(boxes.count()):
        boxes.nth(n).check()
    lead.shot("draw-form")
    lead.page.click("main form button.primary[type=submit]")
    lead.page.wait_for_url(re.compile(rf".*/plans/draws/{UUID}$"))
    drawn, plan = _drawn()
    assert lead.page.url.endswith(f"/plans/draws/{drawn.id}")
    assert drawn.period == period and drawn.mode == "covert" and plan.mode == "covert"
    # Drawn again from the audit trail: the same result, the seed shown.
    confirmed = lead.page.locator("main p.flash.info", has_text=drawn.seed)
    assert confirmed.count() == 1 and ("the same result" in confirmed.inner_text()
                                       or "结果一致" in confirmed.inner_text())
    assert lead.page.locator("main p.flash.error").count() == 0
    assert lead.page.locator("main code", has_text=drawn.seed).count() == 1
    assert lead.page.locator("tbody a", has_text=plan.title).count() == 1
    lead.shot("drawn")

    title, plan_id = plan.title, str(plan.id)
    team = {u.id for u in plan.assignees}
    assert len(team) == 2
    drawn_ones = [s for s in bureau.supervisors if s.id in team]
    others = [s for s in bureau.supervisors if s.id not in team]
    assert len(drawn_ones) == 2 and len(others) == 2
    db.session.commit()  # hold no transaction while the server works
    lead.close()

    # The phones: the two drawn pull the plan; an undrawn supervisor and the unit never do.
    phones = {}
    for supervisor in drawn_ones:
        phones[supervisor.id] = PhoneApi(live_server, supervisor)
        changes, _text = phones[supervisor.id].pull()
        mine = [c for c in changes if c["type"] == "plan" and c["entity_id"] == plan_id]
        assert mine and mine[-1]["op"] == "upsert" and mine[-1]["data"]["title"] == title
    for outsider in (*others, bureau.contact):
        api = PhoneApi(live_server, outsider)
        changes, text = api.pull()
        assert all(c["type"] != "plan" for c in changes)
        assert title not in text and plan_id not in text and "双随机" not in text
        api.close()

    # 390 px: a drawn supervisor reads the plan, and cannot change it.
    sup = Person(phone_browser, live_server, drawn_ones[0], PHONE, shots)
    sup.go(f"/plans?month={month}")
    link = sup.page.locator(f"main a[href$='/plans/{plan_id}']", has_text=title)
    assert link.count() == 1
    assert sup.page.locator("main a[href$='/plans/draw']").count() == 0
    sup.fits("the supervisor's calendar")
    sup.shot("supervisor-calendar")
    link.click()
    sup.page.wait_for_url(f"**/plans/{plan_id}")
    assert title in sup.page.locator("h1").inner_text()
    assert sup.page.locator("input[name=title]").count() == 0
    assert sup.page.locator("main form[method=post]").count() == 0
    sup.fits("the supervisor's plan")
    sup.shot("supervisor-plan")

    # 390 px: an undrawn supervisor sees no such plan, nor can reach it by its address.
    other = Person(phone_browser, live_server, others[0], PHONE, shots)
    other.go(f"/plans?month={month}")
    assert title not in other.page.content() and plan_id not in other.page.content()
    other.fits("another supervisor's calendar")
    other.shot("other-supervisor-calendar")
    assert other.go(f"/plans/{plan_id}").status in (403, 404)
    assert title not in other.page.content()
    other.close()

    # 390 px: the unit's contact is refused the plans; the covert title is on no page.
    unit = Person(phone_browser, live_server, bureau.contact, PHONE, shots)
    assert unit.go("/plans").status == 403
    unit.shot("unit-refused")
    assert unit.go(f"/plans/{plan_id}").status in (403, 404)
    for path, status in (("/", 200), ("/cases", 200), ("/bulletins", 200),
                         (f"/plans?month={month}", 403)):
        assert unit.go(path).status == status, path
        html = unit.page.content()
        assert title not in html and plan_id not in html and "双随机" not in html, path
    unit.close()

    # 390 px: the compiler's calendar, draw form and draw fit a phone.
    small = Person(phone_browser, live_server, bureau.compiler, PHONE, shots)
    for path, name in ((f"/plans?month={month}", "calendar"), ("/plans/draw", "draw-form"),
                       (f"/plans/draws/{drawn.id}", "drawn")):
        small.go(path)
        small.fits(path)
        small.shot(f"compiler-{name}")
    small.close()

    # 1280 px: the administrator disables the drawn supervisor.
    target = drawn_ones[0]
    admin = Person(phone_browser, live_server, admin_user, DESK, shots)
    admin.go("/admin/people")
    admin.shot("people")
    admin.page.click(f"main a[href$='/admin/people/{target.id}']")
    admin.page.wait_for_url(f"**/admin/people/{target.id}")
    assert target.name in admin.page.locator("h1").inner_text()
    assert admin.page.locator("td", has_text="计划测试手机").count() == 1  # the phone above
    admin.shot("person")
    admin.page.click("main form[action$='/disable'] button[type=submit]")
    admin.page.wait_for_selector("main p.flash.info")
    assert admin.page.locator("main .badge.rejected").count() == 1
    assert admin.page.locator("main form[action$='/enable']").count() == 1
    assert admin.page.locator("main form[action*='/devices/'] button").count() == 0
    admin.shot("person-disabled")
    admin.close()

    # The disabled supervisor's phone is refused, the other drawn one's still pulls; the
    # desk tab, reloaded, is back at the sign-in page.
    assert phones[target.id].pull_page().status_code == 401
    assert phones[drawn_ones[1].id].pull_page().status_code == 200
    sup.page.reload()
    sup.page.wait_for_url(re.compile(r".*/login(\?.*)?$"))
    assert sup.page.locator("input[name=password]").count() == 1
    assert title not in sup.page.content()
    sup.shot("supervisor-signed-out")
    sup.close()
    for api in phones.values():
        api.close()
    assert lead.dialogs == sup.dialogs == []
