"""Break-glass on a 360-px phone in headless Chromium, axe-core on every page."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.tests.helpers import current_code
from tether.privacy.models import BreakGlassGrant
from tether.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in_staff(phone, user) -> None:
    page = phone.page
    phone.goto("/accounts/sign-in/")
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    phone.click(page.get_by_role("button", name="Sign in"))
    device = TOTPDevice.objects.get(user=user)
    page.get_by_label("6-digit code from your app").fill(current_code(device))
    phone.click(page.get_by_role("button", name="Continue"))


def _fits_the_screen(phone) -> None:
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_clinician_breaks_the_glass_and_the_privacy_officer_sees_it(phone, cast):
    patient = cast.patient.patient
    page = phone.page
    _sign_in_staff(phone, cast.unassigned_clinician)

    phone.goto(f"/staff/patients/{patient.pk}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Page not found"
    _fits_the_screen(phone)
    phone.click(page.get_by_role("link", name="Ask for emergency access"))
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Emergency access to a patient record"
    )
    assert "Garcia" not in page.content()
    _fits_the_screen(phone)

    page.get_by_label("Explain why you need this record now").fill("Urgent, sorry")
    phone.click(page.get_by_role("button", name="Open the record in an emergency"))
    assert "Choose the kind of emergency." in page.content()
    assert page.get_by_label("Explain why you need this record now").input_value() == (
        "Urgent, sorry"
    )

    page.get_by_label("Medical emergency").check()
    page.get_by_label("Explain why you need this record now").fill(
        "Collapsed in the waiting room; need the medication history now."
    )
    phone.click(page.get_by_role("button", name="Open the record in an emergency"))
    assert page.get_by_role("heading", level=1).inner_text() == "Maria Garcia"
    assert "Emergency access is open until" in page.get_by_role("status").inner_text()
    assert BreakGlassGrant.objects.filter(user=cast.unassigned_clinician).exists()

    phone.click(page.get_by_role("button", name="Sign out"))
    _sign_in_staff(phone, cast.privacy_officer)
    phone.click(page.get_by_role("link", name="Notifications"))
    alert = page.get_by_role("article")
    assert "Uri Staff (Clinician) used emergency access" in alert.inner_text()
    assert "Collapsed in the waiting room" in alert.inner_text()
    _fits_the_screen(phone)
    phone.click(page.get_by_role("button", name="Mark all as read"))
    assert page.get_by_role("button", name="Mark all as read").count() == 0
