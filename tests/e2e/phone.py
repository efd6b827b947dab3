"""The field app in Debian's chromium as a phone: a phone-sized tab with a granted position
and a fake microphone (the browser is the ``phone_browser`` fixture of conftest.py), and
what the tests ask of the app."""

import os
from pathlib import Path

from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("MINGCHA_ARTIFACTS", "artifacts")) / "field"
PHONE = {"width": 390, "height": 844}
WHERE = {"latitude": 34.2601, "longitude": 117.1902, "accuracy": 8}


class Phone:
    """The field app in a phone-sized tab; screenshots numbered in the order taken."""

    def __init__(self, browser, base, viewport=PHONE):
        self.context = browser.new_context(
            viewport=viewport, locale="zh-CN", geolocation=WHERE, is_mobile=True,
            has_touch=True, permissions=["geolocation", "microphone"])
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.base, self.n = base, 0
        self.uploads = []  # (method, url, Upload-Offset sent or answered)
        self.page.on("request", self._request)
        self.page.on("response", self._response)

    def _request(self, request):
        if "/api/v1/uploads" in request.url and request.method in ("POST", "PATCH"):
            self.uploads.append((request.method, request.url,
                                 request.headers.get("upload-offset")))

    def _response(self, response):
        if "/api/v1/uploads/" in response.url and response.request.method == "HEAD":
            self.uploads.append(("HEAD", response.url, response.headers.get("upload-offset")))

    def shot(self, name):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.n += 1
        self.page.screenshot(path=str(ARTIFACTS / f"{self.n:02}-{name}.png"), full_page=True)

    def state(self, expression):
        return self.page.evaluate(f"() => {{ const m = window.mingcha; return {expression}; }}")

    def wait(self, expression, timeout=60_000):
        self.page.wait_for_function(
            f"() => {{ const m = window.mingcha; return Boolean(m && ({expression})); }}",
            timeout=timeout)

    def synced(self):
        """Nothing left to send, every file sent, no sync running."""
        self.wait("m.store.outbox.length === 0 && !m.sync.running"
                  " && [...m.store.files.values()].every((f) => f.uploaded)")

    def capture(self, testid, *paths):
        """Hands files to a capture button; returns once the app has kept every one."""
        self.page.set_input_files(f"[data-testid={testid}] input", [str(p) for p in paths])
        for path in paths:
            name = path.name
            self.wait(f"[...m.store.files.values()].some((f) => f.filename === {name!r})"
                      f" || m.store.all('evidence').some((e) => e.filename === {name!r})")


def sign_in(phone, user, shot=None):
    """Opens the app and signs in; returns when the first sync is done."""
    phone.page.goto(phone.base + "/field/")
    if shot:
        phone.shot(shot)
    phone.page.fill("input[name=username]", user.username)
    phone.page.fill("input[name=password]", PASSWORD)
    phone.page.click("button[type=submit]")
    phone.wait("m.store.meta.last_sync")
