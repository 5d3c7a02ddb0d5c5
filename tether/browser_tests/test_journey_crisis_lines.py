"""A program admin says the crisis line takes texts and closes the office for a day;
the patient then gets a Text button for the program line. axe passes throughout."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.tests.helpers import current_code
from tether.organizations.models import ProgramClosure
from tether.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_admin_turns_on_texts_and_closes_a_day_then_the_patient_can_text(desktop, phone, cast):
    admin = cast.program_admin
    desktop.goto("/accounts/sign-in/")
    page = desktop.page
    page.get_by_label("Username or email").fill(admin.username)
    page.get_by_label("Password").fill(PASSWORD)
    desktop.click(page.get_by_role("button", name="Sign in"))
    page.get_by_label("6-digit code from your app").fill(
        current_code(TOTPDevice.objects.get(user=admin))
    )
    desktop.click(page.get_by_role("button", name="Continue"))
    desktop.click(page.get_by_role("link", name="Crisis lines", exact=True))
    assert page.get_by_role("heading", level=1).inner_text().endswith("Adolescent IOP")
    page.get_by_label("Program", exact=True).select_option(label="Adult IOP")
    desktop.click(page.get_by_role("button", name="Show"))

    # A typo is refused next to the field, and what was typed stays.
    page.get_by_label("Program crisis line (answered around the clock)").fill("555-01OO")
    page.get_by_label("This number takes text messages").check()
    desktop.click(page.get_by_role("button", name="Save crisis lines"))
    errors = page.locator("#crisis-line-errors")
    assert errors.get_by_text("This is not a phone number that can be dialled.").is_visible()
    field = page.get_by_label("Program crisis line (answered around the clock)")
    assert field.input_value() == "555-01OO"
    field.fill("413-555-0100")
    # The after-hours number stored before numbers were checked ("555-0101", no area
    # code) cannot be dialled from everywhere: it is asked for again, with its area code.
    page.get_by_label("After-hours on-call number (optional)").fill("413-555-0101")
    desktop.click(page.get_by_role("button", name="Save crisis lines"))
    assert page.get_by_text("Crisis lines saved.").is_visible()

    day = timezone.now().astimezone(cast.iop.tzinfo).date() + dt.timedelta(days=7)
    page.get_by_label("Date the office is closed").fill(day.isoformat())
    page.get_by_label("Reason (optional, staff only)").fill("Staff training")
    desktop.click(page.get_by_role("button", name="Close the office that day"))
    assert page.get_by_text("Staff training").is_visible()
    assert ProgramClosure.objects.filter(program=cast.iop, date=day).exists()

    phone.goto("/accounts/sign-in/")
    ppage = phone.page
    ppage.get_by_label("Username or email").fill("maria.g")
    ppage.get_by_label("Password").fill(PASSWORD)
    phone.click(ppage.get_by_role("button", name="Sign in"))
    phone.click(ppage.get_by_role("link", name="Need help now?"))
    program = ppage.locator("section", has=ppage.get_by_role("heading", name="Your program"))
    assert program.get_by_role("link", name="Text", exact=True).get_attribute("href") == (
        "sms:+14135550100"
    )
    assert ppage.evaluate("document.documentElement.scrollWidth") <= 360
