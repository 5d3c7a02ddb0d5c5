"""The patient navigation on a cheap phone: one compact row, crisis help always in view.

At 320 and 360 px the main navigation stays one row (the most-used places plus a
"More" menu that opens without JavaScript); every destination is reachable; the
current page is marked; every tap target is at least 44 px; axe-core passes with
the menu open and closed. The family member's and the signed-out layouts too.
"""

from __future__ import annotations

from typing import Any

import pytest

from tether.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# One row of 48 px targets (a label may wrap inside its own tab at 320 px), never
# the three lines the six links used to take.
NAV_MAX_HEIGHT = 72
MIN_TARGET = 44


def _sign_in(browser: Any, username: str) -> None:
    browser.goto("/accounts/sign-in/")
    page = browser.page
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    browser.click(page.get_by_role("button", name="Sign in"))


def _nav(page: Any) -> Any:
    return page.get_by_role("navigation", name="Main")


def _box(locator: Any) -> dict[str, float]:
    box: dict[str, float] | None = locator.bounding_box()
    assert box is not None, "not rendered"
    return box


def _assert_crisis_first_and_visible(page: Any) -> None:
    crisis = page.get_by_role("link", name="Need help now?")
    assert crisis.is_visible()
    assert _box(crisis)["y"] + _box(crisis)["height"] <= page.viewport_size["height"]
    # "Need help now?" and "Call or text 988" share one 48 px row, down to 320 px.
    bar = page.get_by_role("navigation", name="Crisis help")
    assert _box(bar)["height"] <= 56
    assert page.get_by_role("link", name="Call or text 988").is_visible()
    # First in reading order after the skip link: before the brand and the navigation.
    first_links = page.evaluate(
        "[...document.querySelectorAll('a')].filter(a => !a.classList.contains('skip-link'))"
        ".slice(0, 1).map(a => a.textContent.trim())"
    )
    assert first_links == ["Need help now?"]


def _assert_targets(page: Any, scope: Any) -> None:
    for target in scope.locator("a:visible, button:visible, summary:visible").all():
        box = _box(target)
        assert box["height"] >= MIN_TARGET, (target.inner_text(), box)
        assert box["width"] >= MIN_TARGET, (target.inner_text(), box)


@pytest.mark.parametrize("width", [320, 360])
def test_a_patient_reaches_every_page_from_one_compact_row(phone, cast, width):
    page = phone.page
    page.set_viewport_size({"width": width, "height": 740})
    _sign_in(phone, "maria.g")
    nav = _nav(page)

    assert _box(nav)["height"] <= NAV_MAX_HEIGHT
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    _assert_crisis_first_and_visible(page)
    assert nav.get_by_role("link", name="Home").get_attribute("aria-current") == "page"
    for name in ("Home", "Messages", "My safety plan"):
        assert nav.get_by_role("link", name=name).is_visible()
    # The rest is one tap away, in the "More" menu (a <details>: no script needed).
    more = nav.locator("summary", has_text="More")
    assert not nav.get_by_role("link", name="Homework").is_visible()
    _assert_targets(page, nav)
    more.click()
    for name in ("My progress", "Homework", "Sharing"):
        assert nav.get_by_role("link", name=name).is_visible()
    assert nav.get_by_role("button", name="Sign out").is_visible()
    _assert_targets(page, nav)
    phone.check_accessibility()  # with the menu open
    # The open menu pushes the page down (it covers nothing); the row itself stays one row.
    assert _box(nav.locator("ul").first)["height"] <= NAV_MAX_HEIGHT
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    # Each destination, through the menu where it lives; the page is marked current.
    for name in ("My progress", "Homework", "Sharing"):
        if not nav.get_by_role("link", name=name).is_visible():
            more.click()
        phone.click(nav.get_by_role("link", name=name))
        # A new page starts with the menu closed; "More" shows the page is inside it.
        hidden_link = nav.get_by_role("link", name=name, include_hidden=True)
        assert not hidden_link.is_visible()
        assert hidden_link.get_attribute("aria-current") == "page"
        assert "is-current" in (more.get_attribute("class") or "")
        assert _box(nav)["height"] <= NAV_MAX_HEIGHT
        _assert_crisis_first_and_visible(page)
    for name in ("Messages", "My safety plan", "Home"):
        phone.click(nav.get_by_role("link", name=name))
        assert nav.get_by_role("link", name=name).get_attribute("aria-current") == "page"
        assert _box(nav)["height"] <= NAV_MAX_HEIGHT
        _assert_crisis_first_and_visible(page)

    more.click()
    phone.click(nav.get_by_role("button", name="Sign out"))
    assert page.get_by_role("button", name="Sign in").is_visible()


def test_the_menu_works_by_keyboard_and_on_a_desktop(desktop, cast):
    page = desktop.page
    _sign_in(desktop, "maria.g")
    nav = _nav(page)
    # On a wide screen the header is one row too: brand and navigation side by side.
    assert _box(nav)["height"] <= NAV_MAX_HEIGHT
    brand = _box(page.get_by_role("link", name="Tether"))
    assert abs(_box(nav)["y"] - brand["y"]) < brand["height"]
    more = nav.locator("summary", has_text="More")
    more.focus()
    page.keyboard.press("Enter")
    assert nav.get_by_role("link", name="Sharing").is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "My progress"
    desktop.click(nav.get_by_role("link", name="My progress"))
    current = nav.get_by_role("link", name="My progress", include_hidden=True)
    assert current.get_attribute("aria-current") == "page"


def test_a_family_member_and_a_signed_out_visitor_get_the_same_crisis_link(phone, cast):
    page = phone.page
    phone.goto("/accounts/sign-in/")
    _assert_crisis_first_and_visible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    _sign_in(phone, "grace.k")
    nav = _nav(page)
    assert _box(nav)["height"] <= NAV_MAX_HEIGHT
    _assert_crisis_first_and_visible(page)
    assert nav.get_by_role("link", name="Home").get_attribute("aria-current") == "page"
    assert nav.locator("summary").count() == 0  # nothing to hide: Home and Sign out
    _assert_targets(page, nav)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    phone.click(nav.get_by_role("button", name="Sign out"))
