"""A clinical lead changes a flag rule's threshold in a browser: the rules page is
reached from the flag queue, a nonsense value is refused with a clear message next
to the field (what was typed stays), a sensible one is saved; axe passes throughout."""

from __future__ import annotations

from typing import Any

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.models import User
from tether.accounts.tests.helpers import current_code
from tether.flags.models import FlagRule
from tether.flags.rules import RULES
from tether.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in_staff(browser: Any, user: User) -> None:
    browser.goto("/accounts/sign-in/")
    page = browser.page
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    browser.click(page.get_by_role("button", name="Sign in"))
    device = TOTPDevice.objects.get(user=user)
    page.get_by_label("6-digit code from your app").fill(current_code(device))
    browser.click(page.get_by_role("button", name="Continue"))


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_lead_changes_a_threshold_and_a_nonsense_value_is_refused(device, cast, request):
    browser = request.getfixturevalue(device)
    _sign_in_staff(browser, cast.clinical_lead)
    page = browser.page
    browser.goto("/staff/flags/")
    browser.click(page.get_by_role("link", name="Flag rules and thresholds for your programs"))
    assert page.get_by_role("heading", name="Flag rules", exact=True).is_visible()
    adult = page.locator("section", has=page.get_by_role("heading", name="Adult IOP"))
    browser.click(adult.get_by_role("link", name="Homework repeatedly late"))
    assert page.get_by_role("heading", name="Change rule: Homework repeatedly late").is_visible()

    threshold = page.get_by_label("Threshold (times)")
    threshold.fill("0")
    browser.click(page.get_by_role("button", name="Save the rule"))
    assert page.get_by_text(
        "The threshold for this rule must be between 1 and 20 times."
    ).is_visible()
    assert page.get_by_label("Threshold (times)").input_value() == "0"
    rule = FlagRule.objects.get(program=cast.iop, code="homework_late")
    assert rule.threshold == RULES["homework_late"].threshold  # nothing changed

    page.get_by_label("Threshold (times)").fill("6")
    browser.click(page.get_by_role("button", name="Save the rule"))
    assert page.get_by_text("saved for Adult IOP").is_visible()
    row = page.locator(f"#rule-{rule.pk}")
    assert row.get_by_text("6 homework assignments were late").is_visible()
    rule.refresh_from_db()
    assert rule.threshold == 6
    browser.assert_every_page_checked()
