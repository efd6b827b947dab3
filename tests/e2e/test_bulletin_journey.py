"""The monthly bulletin in a real browser (Debian's chromium, driven by Playwright), at a
desk's width and a phone's: the compiler compiles November 2026, edits a section with
markup in it and the document number, publishes, watches the files being made and
downloads the PDF; the contact of the unit with the major problem reads it on a phone, its
own problem marked, its own score, the PDF only; the compiler's scores fit a phone. The
covert plan's title never shows, on a page or in the PDF.

Screenshots of every screen go to ``artifacts/bulletins/`` (or ``$MINGCHA_ARTIFACTS``),
kept by CI as test artifacts, never committed.
"""

import re
import subprocess
import threading
from pathlib import Path

import pytest

from server.bulletins import jobs as bulletin_jobs
from tests.e2e.desk import DESK, PHONE, Person, Shots
from tests.server.bulletins import conftest as bulletin_data

NUMBER = "X住建督〔2026〕27号"
REQUIREMENT = "限期十日内整改到位<script>alert(1)</script>"

november = bulletin_data.november  # the month of tests/server/bulletins, covert plan and all


@pytest.fixture
def held_render(monkeypatch):
    """The files' render (in-process: no Redis in the tests) held at 5 % until the event is
    set, so that a page can be seen while they are being made."""
    release, real = threading.Event(), bulletin_jobs.render

    def render(bulletin, folder, progress=lambda percent: None, **options):
        progress(5)
        release.wait(30)
        return real(bulletin, folder, progress, **options)

    monkeypatch.setattr(bulletin_jobs, "render", render)
    yield release
    release.set()  # never leave a server thread waiting


def _pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True, timeout=30).stdout


def test_the_bulletin_from_compiling_to_a_units_phone(app, make, live_server, phone_browser,
                                                      november, held_render, backend):
    shots = Shots(backend, "bulletins")
    secret = november["plan"].title
    compiler = make.user("compiler")
    contact = make.user("unit", unit=november["b"])  # 路灯管理所: the major problem

    # 1280 px: the compiler compiles November, edits, publishes and downloads the PDF.
    lead = Person(phone_browser, live_server, compiler, DESK, shots)
    lead.go("/bulletins")
    lead.shot("list-empty")
    lead.page.fill("input[name=month]", "2026-11")
    lead.page.click("form[action$='/bulletins/compile'] button[type=submit]")
    lead.page.wait_for_url(re.compile(r".*/bulletins/[0-9a-f-]{36}$"))
    bulletin_id = lead.page.url.rsplit("/", 1)[1]
    assert lead.page.locator("h1").inner_text() == "关于2026年11月份明察暗访情况的通报"
    assert lead.page.title() == "关于2026年11月份明察暗访情况的通报 · 明察"
    assert lead.page.locator(".badge:not(.ok)").first.is_visible()  # a draft
    assert secret not in lead.page.content()
    lead.shot("draft")

    lead.page.fill("form.bulletin-edit input[name=number]", NUMBER)
    lead.page.fill("form.bulletin-edit textarea[name=整改要求]", REQUIREMENT)
    lead.page.click("form.bulletin-edit button[type=submit]")
    lead.page.wait_for_selector(".flash.info")
    assert lead.page.input_value("form.bulletin-edit input[name=number]") == NUMBER
    assert lead.page.input_value("textarea[name=整改要求]") == REQUIREMENT
    lead.shot("draft-edited")

    # Publishing makes the files; a second tab watches them being made, then the page
    # reloads itself (desk.js) with the downloads.
    lead.page.evaluate("() => document.querySelector("
                       "\"form[action$='/publish'] button[type=submit]\").click()")
    watch = lead.context.new_page()
    watch.on("dialog", lead._dialog)
    bar = watch.locator("section.files progress")
    for _attempt in range(100):
        watch.goto(f"{live_server}/bulletins/{bulletin_id}")
        if bar.count():
            break
        watch.wait_for_timeout(100)
    assert bar.count() == 1
    # desk.js follows the job: the bar moves to where the held render stands.
    watch.wait_for_function("() => document.querySelector('section.files progress').value == 5")
    assert watch.locator("section.files a").count() == 0
    lead.shot("render-progress", page=watch)
    held_render.set()
    watch.wait_for_selector("section.files a[href$='/files/pdf']", timeout=60_000)
    assert watch.locator("section.files progress").count() == 0
    watch.close()

    lead.page.wait_for_selector("section.files a[href$='/files/pdf']", timeout=60_000)
    links = lead.page.locator("section.files a")
    assert [links.nth(i).inner_text() for i in range(links.count())] == ["PDF", "DOCX", "XLSX"]
    assert lead.page.locator(".badge.ok").first.is_visible()  # published
    assert NUMBER in lead.page.locator("main").inner_text()
    # The markup is text on the page, never a script: no element made of it, no dialog.
    assert lead.page.locator("section p", has_text=REQUIREMENT).count() == 1
    assert lead.page.evaluate(
        "() => [...document.scripts].every((s) => !s.textContent.includes('alert'))")
    assert lead.dialogs == []
    lead.shot("published")

    with lead.page.expect_download() as got:
        lead.page.click("section.files a[href$='/files/pdf']")
    download = got.value
    assert download.suggested_filename == "bulletin-2026-11.pdf"
    pdf = Path(download.path())
    assert pdf.read_bytes().startswith(b"%PDF")
    text = _pdf_text(pdf)
    assert NUMBER in text and "限期十日内整改到位" in text
    assert secret not in text
    lead.close()

    # 390 px: the unit's contact reads it, its own problem marked, its score, the PDF only.
    unit = Person(phone_browser, live_server, contact, PHONE, shots)
    unit.go("/bulletins")
    assert unit.page.locator("a", has_text="关于2026年11月份明察暗访情况的通报").count() == 1
    assert unit.sideways()[0] <= unit.sideways()[1]
    unit.shot("unit-list")
    unit.page.click(f"a[href$='/bulletins/{bulletin_id}']")
    unit.page.wait_for_url(f"**/bulletins/{bulletin_id}")
    mine = unit.page.locator("tr.mine")
    assert mine.count() == 1
    assert "路灯管理所" in mine.inner_text() and mine.locator(".badge.overdue").count() == 1
    others = unit.page.locator("tbody tr:not(.mine)", has_text="建筑业管理科")
    assert others.count() >= 1
    shade = "(row) => getComputedStyle(row.querySelector('td')).backgroundColor"
    assert mine.evaluate(shade) != others.first.evaluate(shade)  # marked to the eye too
    scores = unit.page.locator("section", has=unit.page.locator("h2", has_text="单位得分"))
    rows = scores.locator("tbody tr")
    assert rows.count() == 1
    assert "路灯管理所" in rows.inner_text() and "93.0" in rows.inner_text()
    links = unit.page.locator("section.files a")
    assert links.count() == 1 and links.get_attribute("href").endswith("/files/pdf")
    html = unit.page.content()
    assert secret not in html and "/files/docx" not in html and "/files/xlsx" not in html
    width, window = unit.sideways()
    unit.shot("unit-bulletin")
    assert width <= window, f"the page scrolls sideways at 390 px: {width} > {window}"
    with unit.page.expect_download() as got:
        unit.page.click("section.files a[href$='/files/pdf']")
    assert Path(got.value.path()).read_bytes().startswith(b"%PDF")
    for kind in ("docx", "xlsx"):
        refused = unit.go(f"/bulletins/{bulletin_id}/files/{kind}")
        assert refused.status in (403, 404)
        assert secret not in unit.page.content()
    assert unit.dialogs == []
    unit.close()

    # 390 px: the compiler's scores. The nine columns are squeezed into the phone's width
    # (a unit's name wraps a character a line); were they wider, they would scroll inside
    # their own box (.table-wrap), never the page.
    lead = Person(phone_browser, live_server, compiler, PHONE, shots)
    lead.go("/scores?month=2026-11")
    assert lead.page.locator("tbody tr").count() == 3  # every unit of the bureau
    width, window = lead.sideways()
    lead.shot("scores")
    assert width <= window, f"the page scrolls sideways at 390 px: {width} > {window}"
    wrap = lead.page.evaluate(
        "() => { const w = document.querySelector('.table-wrap');"
        " return [w.scrollWidth, w.clientWidth, getComputedStyle(w).overflowX]; }")
    assert wrap[2] == "auto" and wrap[1] <= window
    lead.close()
