"""A program admin resets a colleague's two-step sign-in on a phone; the stopped-background
banner shows on the same pages. axe-core on every page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.models import TwoStepReset
from tether.accounts.tests.helpers import current_code
from tether.crisis.health import scheduler_beat
from tether.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in_staff(browser, user) -> None:
    page = browser.page
    browser.goto("/accounts/sign-in/")
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    browser.click(page.get_by_role("button", name="Sign in"))
    device = TOTPDevice.objects.get(user=user)
    page.get_by_label("6-digit code from your app").fill(current_code(device))
    browser.click(page.get_by_role("button", name="Continue"))


def test_a_program_admin_resets_a_colleagues_two_step_sign_in(phone, cast):
    scheduler_beat()  # background work running: no banner
    colleague = cast.assigned_clinician
    page = phone.page
    _sign_in_staff(phone, cast.program_admin)

    phone.goto("/accounts/staff/two-step/")
    assert page.get_by_role("heading", level=1).inner_text() == "Staff two-step sign-in"
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 360
    phone.click(page.get_by_role("link", name=f"Reset for {colleague.get_full_name()}"))
    assert "Reset two-step sign-in for" in page.get_by_role("heading", level=1).inner_text()

    # Forgot to tick the box: told so, nothing changed, the reason kept.
    page.get_by_label("Phone lost or stolen").check()
    phone.click(page.get_by_role("button", name="Reset two-step sign-in"))
    assert "Tick the box" in page.locator(".field--error").inner_text()
    assert page.get_by_label("Phone lost or stolen").is_checked()
    assert TOTPDevice.objects.filter(user=colleague).exists()

    page.get_by_label("I have made sure it is really them asking", exact=False).check()
    phone.click(page.get_by_role("button", name="Reset two-step sign-in"))
    assert "with a set-up link from you" in page.get_by_role("status").inner_text()
    assert not TOTPDevice.objects.filter(user=colleague).exists()
    assert TwoStepReset.objects.filter(user=colleague).count() == 1


def test_the_background_banner_is_readable_and_accessible(phone, cast):
    scheduler_beat(now=timezone.now() - dt.timedelta(minutes=30))
    page = phone.page
    _sign_in_staff(phone, cast.on_call)
    phone.goto("/crisis/requests/")
    banner = page.get_by_role("region", name="Background work has stopped", exact=False)
    assert banner.is_visible()
    assert "call the on-call line directly" in banner.inner_text()
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 360
