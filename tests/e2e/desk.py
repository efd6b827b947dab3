"""A person at the desk in a real browser, for the journeys: a signed-in tab at a desk's
or a phone's width, and numbered screenshots."""

import os
from pathlib import Path

from tests.conftest import PASSWORD

DESK = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


class Shots:
    """Screenshots numbered in the order taken, the database in the name, kept under
    ``artifacts/<folder>/`` (or ``$MINGCHA_ARTIFACTS``)."""

    def __init__(self, backend, folder: str):
        self.backend, self.n = backend, 0
        self.folder = Path(os.environ.get("MINGCHA_ARTIFACTS", "artifacts")) / folder

    def take(self, page, name):
        self.folder.mkdir(parents=True, exist_ok=True)
        self.n += 1
        page.screenshot(path=str(self.folder / f"{self.backend}-{self.n:02}-{name}.png"),
                        full_page=True)


class Person:
    """One person's signed-in tab at a desk's or a phone's width; every dialog is accepted
    and kept."""

    def __init__(self, browser, base, user, viewport, shots):
        phone = viewport is PHONE
        self.context = browser.new_context(viewport=viewport, locale="zh-CN",
                                           is_mobile=phone, has_touch=phone)
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.base, self.shots = base, shots
        self.width = "phone" if phone else "desk"
        self.dialogs = []
        self.page.on("dialog", self._dialog)
        self.go("/login")
        self.page.fill("input[name=username]", user.username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("main form button[type=submit]")
        self.page.wait_for_url(base + "/")

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.accept()

    def go(self, path):
        return self.page.goto(self.base + path)

    def shot(self, name, page=None):
        self.shots.take(page or self.page, f"{self.width}-{name}")

    def sideways(self) -> tuple[int, int]:
        """The whole page's width and the window's: wider means a sideways scroll."""
        return tuple(self.page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"))

    def fits(self, what):
        width, window = self.sideways()
        assert width <= window, f"{what} scrolls sideways at {self.width}: {width} > {window}"

    def close(self):
        self.context.close()
