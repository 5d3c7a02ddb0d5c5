"""The account journeys on a 360-px phone in headless Chromium, axe-core on every page."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.models import ResetCode
from tether.accounts.services import enrolment_link_create, invite_create, reset_code_issue
from tether.accounts.tests.helpers import current_code, register_newcomer
from tether.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "the river runs past my house"


def _fits_the_screen(phone) -> None:
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 360


def _sign_in(phone, username: str, password: str = PASSWORD) -> None:
    page = phone.page
    phone.goto("/accounts/sign-in/")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(password)
    phone.click(page.get_by_role("button", name="Sign in"))


def test_it_takes_a_new_patient_from_invite_link_to_welcome(phone, cast):
    newcomer = register_newcomer(cast)
    token = invite_create(user=newcomer, created_by=cast.front_desk).token
    page = phone.page

    phone.goto(f"/accounts/invite/{token}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Rosie"
    assert page.locator(".username").inner_text() == newcomer.username
    assert page.get_by_role("link", name="Need help now?").is_visible()
    _fits_the_screen(phone)

    page.get_by_label("New password").fill("short")
    page.get_by_label("Type the same password again").fill("short")
    phone.click(page.get_by_role("button", name="Save my password"))
    assert "too short" in page.locator(".field--error").first.inner_text()

    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("Type the same password again").fill(NEW_PASSWORD)
    phone.click(page.get_by_role("button", name="Save my password"))
    assert page.url.endswith("/me/welcome/")

    phone.goto(f"/accounts/invite/{token}/")
    assert page.get_by_role("heading", level=1).inner_text() == "This invite link no longer works"


def test_it_resets_a_password_with_a_front_desk_code(phone, cast):
    issued = reset_code_issue(
        user=cast.patient,
        created_by=cast.front_desk,
        confirmation=ResetCode.Confirmation.IN_PERSON,
        identity_document="state_id",
    )
    page = phone.page

    phone.goto("/accounts/sign-in/")
    phone.click(page.get_by_role("link", name="I have a reset code from the front desk"))
    _fits_the_screen(phone)
    page.get_by_label("Your username").fill("maria.g")
    page.get_by_label("Reset code from the front desk").fill("0000 0000")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("Type the same password again").fill(NEW_PASSWORD)
    phone.click(page.get_by_role("button", name="Save my new password"))
    assert "don't work together" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Your username").input_value() == "maria.g"
    assert page.get_by_label("Reset code from the front desk").input_value() == ""

    page.get_by_label("Reset code from the front desk").fill(issued.display)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("Type the same password again").fill(NEW_PASSWORD)
    phone.click(page.get_by_role("button", name="Save my new password"))
    assert "sign in now" in page.get_by_role("heading", level=1).inner_text()

    phone.click(page.get_by_role("link", name="Sign in", exact=True))
    page.get_by_label("Username or email").fill("maria.g")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    phone.click(page.get_by_role("button", name="Sign in"))
    # Told first: her password was changed with a code from staff, how it was checked.
    assert page.get_by_role("heading", level=1).inner_text() == "Your password was changed"
    assert "State ID card" in page.locator("main").inner_text()
    phone.click(page.get_by_role("button", name="I have read this"))
    assert page.get_by_role("heading", level=1).inner_text() == "Hi Maria"


def test_it_resets_a_password_by_email(phone, cast, settings, live_server):
    settings.SITE_URL = live_server.url
    cast.patient.email = "maria.garcia@example.org"
    cast.patient.save(update_fields=["email"])
    page = phone.page

    phone.goto("/accounts/sign-in/")
    phone.click(page.get_by_role("link", name="Forgot your password? Get a reset link by email"))
    page.get_by_label("Your email").fill("maria.garcia@example.org")
    phone.click(page.get_by_role("button", name="Send me a link"))
    assert page.get_by_role("heading", level=1).inner_text() == "Check your email"

    match = re.search(r"http\S+/accounts/reset/link/\S+/", str(mail.outbox[0].body))
    assert match is not None
    link = match.group(0)
    phone.goto(link)
    assert page.get_by_role("heading", level=1).inner_text() == "Choose a new password"
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("Type the same password again").fill(NEW_PASSWORD)
    phone.click(page.get_by_role("button", name="Save my new password"))
    assert "sign in now" in page.get_by_role("heading", level=1).inner_text()

    phone.goto(link)
    assert page.get_by_role("heading", level=1).inner_text() == "This reset link no longer works"


def test_it_sets_up_two_step_sign_in_for_new_staff(phone, cast):
    TOTPDevice.objects.filter(user=cast.front_desk).delete()
    page = phone.page

    _sign_in(phone, "fran.desk")
    # The password alone does not let anyone connect a phone: a set-up link is needed.
    assert page.get_by_role("heading", level=1).inner_text() == "Set up two-step sign-in"
    assert "set-up link from your program admin" in page.locator("main").inner_text()
    issued = enrolment_link_create(user=cast.front_desk, created_by=cast.program_admin)
    phone.goto(f"/accounts/two-step/enrol/{issued.token}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Set up two-step sign-in"
    assert page.get_by_role(
        "img", name="QR code to add Tether to an authenticator app"
    ).is_visible()
    link = page.get_by_role("link", name="Add Tether to my authenticator app")
    assert link.get_attribute("href").startswith("otpauth://totp/")
    _fits_the_screen(phone)

    device = TOTPDevice.objects.get(user=cast.front_desk, confirmed=False)
    page.get_by_label("6-digit code from your app").fill(current_code(device))
    phone.click(page.get_by_role("button", name="Turn on two-step sign-in"))
    assert page.get_by_role("heading", level=1).inner_text() == "Patients"
    assert "Two-step sign-in is on" in page.get_by_role("status").inner_text()


def test_it_asks_staff_for_the_code_at_sign_in(phone, cast):
    device = TOTPDevice.objects.get(user=cast.assigned_clinician)
    page = phone.page

    _sign_in(phone, "dana.clinician")
    assert page.get_by_role("heading", level=1).inner_text() == "Type your code"
    _fits_the_screen(phone)
    page.get_by_label("6-digit code from your app").fill("000000")
    phone.click(page.get_by_role("button", name="Continue"))
    assert "did not work" in page.locator(".field--error").inner_text()

    device.throttling_failure_count = 0
    device.save()
    page.get_by_label("6-digit code from your app").fill(current_code(device))
    phone.click(page.get_by_role("button", name="Continue"))
    assert page.get_by_role("heading", level=1).inner_text() == "Caseload"


def test_it_explains_a_paused_sign_in(phone, cast):
    for _ in range(5):
        _sign_in(phone, "maria.g", "a wrong guess")
    _sign_in(phone, "maria.g")
    assert phone.page.get_by_role("heading", level=1).inner_text() == "Sign-in is paused for now"
    _fits_the_screen(phone)
