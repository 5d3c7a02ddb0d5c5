from __future__ import annotations

import pytest

from tether.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_reaches_crisis_help_in_one_tap_when_signed_out(phone, cast, settings):
    # The live server's host is this clinic's portal (TETHER_HOST_ORGANIZATIONS).
    settings.TETHER_HOST_ORGANIZATIONS = {"127.0.0.1": "riverbend", "localhost": "riverbend"}
    phone.goto("/accounts/sign-in/")
    page = phone.page
    link = page.get_by_role("link", name="Need help now?")
    assert link.is_visible()
    phone.click(link)
    assert page.get_by_role("heading", level=1).inner_text().startswith("You don't have to")
    call_988 = page.get_by_role("link", name="Call 988")
    assert call_988.get_attribute("href") == "tel:988"
    assert (
        page.get_by_role("link", name="Text 741741").get_attribute("href")
        == "sms:741741?&body=HOME"
    )
    # Signed out, this clinic's programs' own lines are listed (the device cannot know
    # which program), and never another organization's.
    assert page.get_by_text("555-0100").is_visible()
    assert page.get_by_text("555-0900").count() == 0
    # Nothing overflows a 360 px screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_it_leads_with_the_patients_own_program_when_signed_in(phone, cast):
    phone.goto("/accounts/sign-in/")
    page = phone.page
    page.get_by_label("Username or email").fill("maria.g")
    page.get_by_label("Password").fill(PASSWORD)
    phone.click(page.get_by_role("button", name="Sign in"))
    phone.click(page.get_by_role("link", name="Need help now?"))
    assert page.get_by_role("heading", name="Your program").is_visible()
    assert page.get_by_text("555-0100").is_visible()
    assert page.get_by_text("555-0110").count() == 0  # the adolescent program is not hers
