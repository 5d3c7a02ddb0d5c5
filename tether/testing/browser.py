"""Browser tests: Playwright driving Debian's Chromium, axe-core on every page.

``Browser`` wraps a Playwright page. Every navigation it makes (``goto``,
``click``/``submit`` that lead to a new page) is followed by an axe-core run
that fails the test on any WCAG 2.x A/AA violation or any of axe's best-practice rules
(landmarks named uniquely, one ``main``, all content inside landmarks: what a screen
reader's landmark list depends on), and the fixture checks at the end that no page was
visited without one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("TETHER_CHROMIUM", "/usr/bin/chromium")
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None


class AccessibilityError(AssertionError):
    pass


@dataclass
class Browser:
    page: Any
    base_url: str
    checked: list[str] = field(default_factory=list)
    navigations: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("framenavigated", self._on_navigation)

    def _on_navigation(self, frame: Any) -> None:
        if frame == self.page.main_frame:
            self.navigations.append(frame.url)

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base_url.rstrip("/") + path

    def goto(self, path: str) -> Any:
        response = self.page.goto(self.url(path))
        self.check_accessibility()
        return response

    def click(self, locator: Any) -> None:
        """Click something that loads a new page, then check that page."""
        with self.page.expect_navigation():
            locator.click()
        self.check_accessibility()

    def check_accessibility(self) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.page.wait_for_load_state("load")
        results = Axe().run(
            self.page,
            options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]},
        )
        self.checked.append(self.page.url)
        if results.violations_count:
            details = []
            for violation in results.response["violations"]:
                targets = [", ".join(node["target"]) for node in violation["nodes"][:5]]
                details.append(
                    f"- {violation['id']} ({violation['impact']}): {violation['help']} at {targets}"
                )
            raise AccessibilityError(
                f"axe-core found {results.violations_count} violation(s) on {self.page.url}:\n"
                + "\n".join(details)
            )

    def assert_every_page_checked(self) -> None:
        unchecked = len(self.navigations) - len(self.checked)
        assert unchecked <= 0, (
            f"{unchecked} page(s) were visited without an axe-core check: {self.navigations}"
        )


@contextmanager
def launch_chromium() -> Iterator[Any]:
    # Playwright's sync API runs an event loop in this thread; the Django ORM
    # calls the tests make between steps are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def sign_in_staff(browser: Browser, user: Any) -> None:
    """Sign a staff member in through the real form: password, then their app's code."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tether.accounts.tests.helpers import current_code
    from tether.testing.cast import PASSWORD

    page = browser.page
    browser.goto("/accounts/sign-in/")
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    browser.click(page.get_by_role("button", name="Sign in"))
    device = TOTPDevice.objects.get(user=user)
    page.get_by_label("6-digit code from your app").fill(current_code(device))
    browser.click(page.get_by_role("button", name="Continue"))
