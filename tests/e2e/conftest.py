"""Fixtures of the browser journeys."""

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.e2e.phone import CHROMIUM


@pytest.fixture(scope="module")
def phone_browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make install` installs Debian's chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--use-fake-ui-for-media-stream",
                  "--use-fake-device-for-media-stream"])
        yield browser
        browser.close()
