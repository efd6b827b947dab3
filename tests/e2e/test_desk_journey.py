"""The desk in a real browser (Debian's chromium, driven by Playwright), at a phone's
width and a desk's: a reviewer accepts evidence by key, confirms the finding into a case
and tells the unit; the unit's contact answers with a report and a photo uploaded from
the browser (tus-js-client); an inspector verifies; the compiler closes the case.

Screenshots of every screen go to ``artifacts/desk/`` (or ``$MINGCHA_ARTIFACTS``), kept
by CI as test artifacts, never committed.
"""

import hashlib
import io
import os
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import sync_playwright

from media.storage import original_key
from server.evidence.pipeline import process
from server.evidence.storage import storage
from server.extensions import db
from server.models import Case, Evidence, Rectification
from tests.conftest import PASSWORD
from tests.media.photo_samples import exif_for, scene

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("MINGCHA_ARTIFACTS", "artifacts")) / "desk"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desk": {"width": 1280, "height": 800}}


def _jpeg(seed: int, size=(1200, 900)) -> bytes:
    out = io.BytesIO()
    scene(seed, size).save(out, "JPEG", quality=85, exif=exif_for(make="HUAWEI").tobytes())
    return out.getvalue()


def _photo(author, check, finding) -> Evidence:
    """A photo of the check, arrived and processed, as after a phone's upload."""
    data = _jpeg(7)
    evidence = Evidence(id=uuid.uuid4(), check_id=check.id, finding_id=finding.id,
                        kind="photo", sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                        filename="IMG_0001.jpg", created_by=author.id,
                        location={"lat": 34.2601, "lon": 117.1902, "accuracy_m": 12},
                        captured_at=check.started_at + timedelta(minutes=5), state="processing")
    evidence.storage_key = original_key(evidence.id, author.id)
    storage().save(evidence.storage_key, io.BytesIO(data))
    db.session.add(evidence)
    db.session.flush()
    process(evidence)
    db.session.commit()
    return evidence


@pytest.fixture(scope="module")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make install` installs Debian's chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox"])
        yield browser
        browser.close()


class Person:
    """One person's browser tab at the given viewport, signed in through the form."""

    def __init__(self, chromium, base, viewport, user, shots):
        self.context = chromium.new_context(viewport=VIEWPORTS[viewport], locale="zh-CN")
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.base, self.shots, self.viewport = base, shots, viewport
        self.go("/login")
        self.page.fill("input[name=username]", user.username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("main form button[type=submit]")
        self.page.wait_for_url(base + "/")

    def go(self, path):
        self.page.goto(self.base + path)

    def shot(self, name):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.viewport}-{self.shots.tick()}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)

    def close(self):
        self.context.close()


class Shots:
    def __init__(self):
        self.n = 0

    def tick(self) -> str:
        self.n += 1
        return f"{self.n:02}"


def _fresh(model, ident):
    """The record as the server committed it (the test's session may hold an old copy)."""
    db.session.commit()
    db.session.expire_all()
    return db.session.get(model, ident)


def _wait_for(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.commit()
        db.session.expire_all()
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("the browser's work did not arrive")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_rectification_loop_in_a_browser(app, make, live_server, chromium, viewport,
                                             tmp_path):
    unit = make.unit(name="建筑业管理科")
    site = make.site(unit, name="纺织东路道路工程", lat=34.26, lon=117.19, radius_m=300)
    inspector = make.user("inspector")
    plan = make.plan([site], [inspector], mode="covert", by=inspector)
    check = make.check(inspector, site, plan=plan)
    finding = make.finding(check)
    photo = _photo(inspector, check, finding)
    contact = make.user("unit", unit=unit)
    reviewer, compiler = make.user("reviewer"), make.user("compiler")
    shots = Shots()

    # The reviewer: the queue, the item, accept by key, confirm, notify.
    desk = Person(chromium, live_server, viewport, reviewer, shots)
    desk.go("/review")
    desk.page.wait_for_selector(f"a[href*='/review/{photo.id}'] img")
    desk.shot("review-queue")
    desk.page.click(f"a[href*='/review/{photo.id}']")
    desk.page.wait_for_selector("svg.map")
    desk.shot("review-item")
    desk.page.keyboard.press("a")
    desk.page.wait_for_selector(".flash.info")
    assert _fresh(Evidence, photo.id).review_state == "accepted"
    desk.go(f"/findings/{finding.id}")
    desk.shot("finding")
    desk.page.click("form[action$='/confirm'] button[type=submit]")
    desk.page.wait_for_url("**/cases/*")
    desk.shot("case-open")
    desk.page.click("form[action$='/move'] button:has-text('通知责任单位')")
    desk.page.wait_for_selector("text=已通知单位")
    db.session.commit()
    case = db.session.scalar(sa.select(Case))
    assert case.status == "notified"
    desk.close()

    # The unit: told on its start page, answers with a report and a photo.
    unit_tab = Person(chromium, live_server, viewport, contact, shots)
    assert unit_tab.page.locator(f"a[href$='/cases/{case.id}']").count() >= 1
    unit_tab.shot("unit-start")
    unit_tab.go(f"/cases/{case.id}")
    page_text = unit_tab.page.content()
    assert plan.title not in page_text and check.notes not in page_text
    unit_tab.page.fill("textarea[name=report]", "已补办外出报批手续，并在科室例会上通报")
    unit_tab.page.click("form[action$='/report'] button[type=submit]")
    unit_tab.page.wait_for_selector("form[data-rectification-upload]")
    fix = tmp_path / "整改后.jpg"
    fix.write_bytes(_jpeg(11))
    # When every file is up, the page reloads itself with the photo in the report.
    with unit_tab.page.expect_navigation(timeout=60_000):
        unit_tab.page.set_input_files("form[data-rectification-upload] input[type=file]",
                                      str(fix))
    _wait_for(lambda: db.session.scalar(sa.select(sa.func.count()).select_from(Evidence)
                                        .where(Evidence.rectification_id.is_not(None))) == 1)
    unit_tab.shot("unit-report")
    unit_tab.page.click("form[action$='/submit'] button[type=submit]")
    unit_tab.page.wait_for_selector("text=已报送")
    unit_tab.close()
    db.session.commit()
    rect = db.session.scalar(sa.select(Rectification))
    sent = db.session.scalar(sa.select(Evidence).where(Evidence.rectification_id == rect.id))
    assert sent.sha256 == hashlib.sha256(fix.read_bytes()).hexdigest()
    with storage().open(sent.storage_key) as stored:
        assert stored.read() == fix.read_bytes()  # byte-exact

    # The inspector verifies; the compiler closes.
    check_tab = Person(chromium, live_server, viewport, inspector, shots)
    check_tab.go(f"/cases/{case.id}")
    check_tab.page.fill("form:has(input[value=verified]) textarea[name=note]", "复查：已整改到位")
    check_tab.page.click("form:has(input[value=verified]) button[type=submit]")
    check_tab.page.wait_for_selector("text=复查：已整改到位")
    check_tab.close()
    lead = Person(chromium, live_server, viewport, compiler, shots)
    lead.go(f"/cases/{case.id}")
    lead.page.click("form:has(input[value=closed]) button[type=submit]")
    lead.page.wait_for_selector(".badge:has-text('已销号')")
    lead.shot("case-closed")
    lead.go("/audit")
    lead.shot("audit")
    lead.close()
    assert _fresh(Case, case.id).status == "closed"
    _wait_for(lambda: _fresh(Evidence, sent.id).state == "ready")  # the fix's photo too


def test_a_photo_chosen_before_the_upload_script_arrives_still_goes_up(app, make, live_server,
                                                                       chromium, tmp_path):
    """On a slow connection the photo field is on screen before its script: a photo chosen
    in that moment is sent once the script arrives, and the page shows it."""
    unit = make.unit(name="建筑业管理科")
    site = make.site(unit, name="纺织东路道路工程")
    inspector = make.user("inspector")
    case = make.case(make.finding(make.check(inspector, site), published=True))
    contact = make.user("unit", unit=unit)
    draft = Rectification(case_id=case.id, report="已补办外出报批手续", created_by=contact.id)
    db.session.add(draft)
    db.session.commit()
    tab = Person(chromium, live_server, "phone", contact, Shots())
    held = []  # the first request for the script waits until the photo is chosen

    def slow(route):
        if held:
            route.continue_()
        else:
            held.append(route)

    tab.page.route("**/build/desk-upload.js", slow)
    tab.page.goto(f"{live_server}/cases/{case.id}", wait_until="commit")
    tab.page.wait_for_selector("form[data-rectification-upload] input[type=file]")
    fix = tmp_path / "整改后.jpg"
    fix.write_bytes(_jpeg(12))
    tab.page.set_input_files("form[data-rectification-upload] input[type=file]", str(fix))
    for _ in range(100):
        if held:
            break
        tab.page.wait_for_timeout(100)  # lets Playwright hand over the held request
    held[0].continue_()

    _wait_for(lambda: db.session.scalar(sa.select(Evidence.sha256)
                                        .where(Evidence.rectification_id == draft.id))
              == hashlib.sha256(fix.read_bytes()).hexdigest())
    tab.page.wait_for_selector("article.note .gallery > *")  # the page reloaded with it
    assert tab.page.locator("article.note .gallery > *").count() == 1  # and sent it once
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence)
                             .where(Evidence.rectification_id == draft.id)) == 1
    tab.close()
