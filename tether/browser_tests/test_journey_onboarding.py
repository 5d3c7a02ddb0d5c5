"""Intake to first sign-in: front desk registers a patient and hands over an invite;
the patient opens it on their phone, sets a password and lands on the welcome page."""

from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.tests.helpers import current_code
from tether.patients.models import Patient
from tether.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "sunflowers on the kitchen table"


def test_it_takes_a_patient_from_intake_to_their_home_page(desktop, phone, cast):
    desk = desktop.page
    desktop.goto("/accounts/sign-in/")
    desk.get_by_label("Username or email").fill("fran.desk")
    desk.get_by_label("Password").fill(PASSWORD)
    desktop.click(desk.get_by_role("button", name="Sign in"))
    device = TOTPDevice.objects.get(user=cast.front_desk)
    desk.get_by_label("6-digit code from your app").fill(current_code(device))
    desktop.click(desk.get_by_role("button", name="Continue"))

    desktop.click(desk.get_by_role("link", name="New patient"))
    desk.get_by_label("First name").fill("Alma")
    desk.get_by_label("Last name").fill("Reyes")
    desk.get_by_label("Date of birth").fill("1979-04-09")
    desk.get_by_label("Record number (MRN)").fill("MRN-77310")
    desk.get_by_label("Program").select_option(label="Adult IOP")
    desk.get_by_label("Primary therapist").select_option(label="Dana Staff")
    # A mistake first: the form keeps everything typed and says what to fix.
    desk.get_by_label("Date of birth").fill("2099-01-01")
    desktop.click(desk.get_by_role("button", name="Register patient"))
    assert "real date in the past" in desk.locator(".field--error").inner_text()
    assert desk.get_by_label("Record number (MRN)").input_value() == "MRN-77310"
    desk.get_by_label("Date of birth").fill("1979-04-09")
    desktop.click(desk.get_by_role("button", name="Register patient"))
    assert desk.get_by_role("heading", level=1).inner_text() == "Alma Reyes"
    assert Patient.objects.filter(record_number="MRN-77310").exists()

    desktop.click(desk.get_by_role("button", name="Create invite link and QR code"))
    assert desk.locator(".qr svg").count() == 1
    invite_url = desk.locator(".invite-link").inner_text().strip()
    match = re.search(r"/accounts/invite/[^/]+/", invite_url)
    assert match, invite_url
    token_path = match.group(0)

    # The patient, on their own phone.
    page = phone.page
    phone.goto(token_path)
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Alma"
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("Type the same password again").fill(NEW_PASSWORD)
    phone.click(page.get_by_role("button", name="Save my password"))
    assert page.url.endswith("/me/welcome/")
    assert page.locator(".lead").inner_text().startswith("Tether is part of your treatment")
    assert page.get_by_role("link", name="Need help now?").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    phone.click(page.get_by_role("button", name="Go to my home page"))
    assert page.get_by_role("heading", level=1).inner_text() == "Hi Alma"

    # The front desk sees that she has signed up.
    desktop.goto(desk.url.split("/invite/")[0] + "/")
    assert desk.get_by_text("Signed up as").is_visible()
