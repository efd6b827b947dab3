"""The field app's promises beyond the main journey, in Debian's chromium: a recording cut
by a closed app is kept; a conflict is shown and resolved as the protocol says; every
screen fits a thumb and sunlight at 360 and 414 px, in Chinese and English; the app is
only for those who check, and text from the server is never markup."""

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import Check, Device, Evidence
from tests.e2e.phone import Phone, sign_in
from tests.server.sync.conftest import mutation

# Every control a thumb uses, and text whose contrast counts.
TARGETS = ("button, a.button, label.button, nav a, select, textarea, "
           "input:not([type=checkbox]):not([type=radio]):not([type=file]), label.choice")
MEASURE = """(selector) => {
  const small = [];
  for (const el of document.querySelectorAll(selector)) {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(el).visibility === 'hidden') continue;
    if (box.height < 44 || box.width < 44) {
      small.push(`${el.outerHTML.slice(0, 80)} ${box.width}x${box.height}`);
    }
  }
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = getComputedStyle(el).backgroundColor;
      if (rgb(c).length < 4 || rgb(c)[3] > 0) return rgb(c).slice(0, 3);
    }
    return [255, 255, 255];
  };
  let worst = 21, where = '';
  for (const el of document.querySelectorAll('body *')) {
    const text = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!text || !el.getBoundingClientRect().width) continue;
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < worst) { worst = ratio; where = el.outerHTML.slice(0, 80); }
  }
  return {small, worst, where, overflow: document.documentElement.scrollWidth - innerWidth};
}"""


def _start_open_check(phone, site):
    phone.page.goto(f"{phone.base}/field/#/start/{site.id}")
    phone.page.select_option(".start select", "")  # not by a plan: open (明察), no question
    phone.page.click(".actions button")
    phone.page.wait_for_selector("[data-testid=take-photo]")
    return phone.page.url.rsplit("/", 1)[1]


def test_a_recording_cut_by_a_closed_app_is_kept(app, make, live_server, phone_browser):
    site = make.site(name="行政审批科服务窗口", lat=34.2601, lon=117.1902, radius_m=80)
    supervisor = make.user("supervisor")
    phone = Phone(phone_browser, live_server)
    sign_in(phone, supervisor)
    check_id = _start_open_check(phone, site)
    phone.page.click("[data-testid=record-audio]")
    phone.page.wait_for_timeout(3500)
    phone.page.close()  # the battery dies: no stop, no goodbye

    page = phone.page = phone.context.new_page()
    page.goto(f"{live_server}/field/#/check/{check_id}")
    page.wait_for_selector("ul.evidence li")
    phone.synced()
    db.session.commit()
    voice = db.session.scalar(sa.select(Evidence).where(Evidence.check_id == uuid.UUID(check_id)))
    assert voice.kind == "audio" and voice.state == "ready", voice.failure
    assert voice.media["duration_s"] >= 2  # up to its last saved second
    phone.context.close()


def test_a_conflict_is_shown_and_the_persons_change_sent_again(app, make, live_server,
                                                              phone_browser, token_for,
                                                              client):
    site = make.site(name="城东安置房二期项目", lat=34.2601, lon=117.1902)
    supervisor = make.user("supervisor")
    phone = Phone(phone_browser, live_server)
    sign_in(phone, supervisor)
    check_id = _start_open_check(phone, site)
    phone.synced()
    phone.context.set_offline(True)
    phone.page.click("button.danger:has-text('结束检查')")
    phone.page.click("[role=alertdialog] button.primary")
    phone.page.wait_for_function("() => location.hash === '#/'")  # ended: back home
    phone.page.goto(f"{live_server}/field/#/check/{check_id}")
    phone.page.fill("input[name=note]", "项目经理不在岗，电话联系未接")
    phone.page.click("form.row button[type=submit]")

    # Meanwhile the same supervisor's other phone changed the check.
    other = token_for(supervisor)
    device = client.get("/api/v1/sync/pull", headers=other)
    assert device.status_code == 200
    answer = client.post("/api/v1/sync/push", headers=other, json={
        "device_id": _device_id(supervisor),
        "mutations": [mutation("check", check_id, {"notes": "另一台手机：施工日志未填写"},
                               base_version=1)]})
    assert answer.json["results"][0]["status"] == "applied"

    phone.context.set_offline(False)
    phone.page.click("nav a[href='#/sync']")
    phone.page.wait_for_selector(".issue:has-text('已被他人修改')")
    phone.shot("sync-conflict")
    db.session.commit()
    check = db.session.get(Check, uuid.UUID(check_id))
    # The note merged at once; the end of the check waits for the person.
    assert check.notes.splitlines() == ["另一台手机：施工日志未填写",
                                        "项目经理不在岗，电话联系未接"]
    assert check.ended_at is None
    phone.page.click(".issue button:has-text('重新提交我的修改')")
    phone.wait("m.store.issues.length === 0")
    phone.synced()
    db.session.commit()  # a new transaction: what the server committed since
    db.session.expire_all()
    check = db.session.get(Check, uuid.UUID(check_id))
    assert check.ended_at is not None and check.ended_at <= datetime.now(UTC)
    assert len(check.notes.splitlines()) == 2
    phone.context.close()


def _device_id(user) -> str:
    db.session.commit()
    device = db.session.scalars(sa.select(Device).where(Device.user_id == user.id)
                                .order_by(Device.created_at.desc())).first()
    return str(device.id)


@pytest.mark.parametrize("width", [360, 414])
def test_every_screen_fits_a_thumb_and_sunlight(app, make, live_server, phone_browser, width):
    unit = make.unit(name="<b>建筑业管理科</b>")
    site = make.site(unit, name="<img src=x onerror=alert(1)>梨园南路", lat=34.2601, lon=117.1902)
    supervisor = make.user("supervisor")
    make.plan([site], [supervisor], mode="covert")
    phone = Phone(phone_browser, live_server, viewport={"width": width, "height": 800})
    page = phone.page
    page.goto(live_server + "/field/")
    screens = {"signin": None}
    _fits(page, "signin")
    sign_in(phone, supervisor)
    # Text from the server is shown as text, never run as markup.
    assert page.locator("button.site .name").first.inner_text() == site.name
    assert page.locator("img[src=x]").count() == 0 and page.locator("main b").count() == 0
    check_id = _start_open_check(phone, site)
    screens.update(home="#/", start=f"#/start/{site.id}", check=f"#/check/{check_id}",
                   finding=f"#/check/{check_id}/finding/new", sync="#/sync", settings="#/settings")
    for name, fragment in screens.items():
        if fragment:
            page.goto(f"{live_server}/field/{fragment}")
            page.wait_for_selector("main")
            _fits(page, name)
    # English, second: the same screens in the other language.
    page.goto(f"{live_server}/field/#/settings")
    page.select_option("select", "en")
    page.wait_for_selector("nav a:has-text('Checks')")
    page.goto(f"{live_server}/field/#/check/{check_id}")
    page.wait_for_selector("text=Add a finding")
    _fits(page, "check in English")
    phone.context.close()


def _fits(page, screen):
    """No sideways scrolling, targets of 44 px at least (Apple's and Google's minimum), and
    every text at 7:1 contrast or more against its background (WCAG AAA: for sunlight)."""
    page.wait_for_timeout(100)
    found = page.evaluate(MEASURE, TARGETS)
    assert found["overflow"] <= 0, f"{screen}: wider than the phone"
    assert found["small"] == [], f"{screen}: targets under 44 px: {found['small']}"
    assert found["worst"] >= 7, f"{screen}: contrast {found['worst']:.2f} at {found['where']}"


@pytest.mark.parametrize("role", ["unit", "reviewer", "compiler", "admin"])
def test_the_app_is_for_those_who_check_and_keeps_no_token_of_others(
        app, make, live_server, phone_browser, role):
    make.plan([make.site(name="张庄村危房改造")], [make.user("supervisor")], mode="covert")
    user = make.user(role)
    phone = Phone(phone_browser, live_server)
    phone.page.goto(live_server + "/field/")
    phone.page.fill("input[name=username]", user.username)
    phone.page.fill("input[name=password]", "correct-horse-42")
    phone.page.click("button[type=submit]")
    phone.page.wait_for_selector("[role=alert]:has-text('本应用供督查组成员和监督员')")
    assert phone.state("m.store.meta.token || null") is None
    assert phone.state("m.store.records.size") == 0  # nothing was pulled
    db.session.commit()
    device = db.session.scalar(sa.select(Device).where(Device.user_id == user.id))
    assert device.revoked_at is not None  # the token it was given is already dead
    phone.context.close()
