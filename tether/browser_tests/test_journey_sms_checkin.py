"""The daily check-in answered by text on the demo's phone page (a 360 px phone), item
by item as the texts ask, and the clinician, signed in on another browser, sees it on
the caseload board and in the pre-session review; a crisis reply on the same page gets
the crisis numbers back at once. axe-core passes on every page, the phone page included."""

from __future__ import annotations

from typing import Any

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.tests.helpers import current_code
from tether.checkins.models import Answer, ProgramInstrument, Response
from tether.checkins.sync import sync_instruments
from tether.crisis.models import UrgentContactRequest
from tether.outreach.models import ContactPreference, InboundMessage
from tether.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_phone(settings: Any, cast: Any) -> Any:
    """The demo's settings (console texts, the phone page on) and the daily check-in on."""
    settings.TETHER_DEMO = True
    settings.TETHER_SMS_BACKEND = "console"
    settings.TETHER_PUSH_BACKEND = "console"
    sync_instruments()
    ProgramInstrument.objects.create(
        organization=cast.organization,
        program=cast.iop,
        instrument_code="daily",
        schedule=ProgramInstrument.Schedule.DAILY,
    )
    return cast


def _sign_in(browser: Any, username: str) -> None:
    browser.goto("/accounts/sign-in/")
    page = browser.page
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    browser.click(page.get_by_role("button", name="Sign in"))


def _turn_on_texts_and_open_the_phone(phone: Any) -> Any:
    """Maria agrees to texts and to the daily question by text on Reminders, then opens
    the demo phone from there."""
    _sign_in(phone, "maria.g")
    page = phone.page
    nav = page.get_by_role("navigation", name="Main")
    nav.locator("summary", has_text="More").click()
    phone.click(nav.get_by_role("link", name="Reminders"))
    page.get_by_label("Yes, send me text messages").check()
    page.get_by_label("Your mobile number for texts").fill("(413) 555-0142")
    page.get_by_label("Answer the daily mood question by text").check()
    phone.click(page.get_by_role("button", name="Save"))
    assert page.get_by_text("Saved. You can change this at any time.").is_visible()
    phone.click(page.get_by_role("link", name="Open the demo phone"))
    assert page.get_by_role("heading", name="Demo phone").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    return page


def _reply(phone: Any, page: Any, body: str) -> None:
    page.get_by_label("Your reply").fill(body)
    phone.click(page.get_by_role("button", name="Send reply"))


def _last_text(page: Any) -> str:
    return str(page.locator(".sms-thread li").last.inner_text())


def test_the_patient_answers_by_text_and_the_clinician_sees_it(phone, desktop, demo_phone):
    cast = demo_phone
    page = _turn_on_texts_and_open_the_phone(phone)
    phone.click(page.get_by_role("button", name="Text me today's check-in now"))
    assert "How is your mood today?" in _last_text(page)

    _reply(phone, page, "7")
    assert "How did you sleep last night?" in _last_text(page)
    _reply(phone, page, "well")  # an option's own label
    assert "Anything you want your care team to know?" in _last_text(page)
    _reply(phone, page, "skip")
    assert "your answers are saved" in _last_text(page)
    thread = page.locator(".sms-thread")
    for typed in ("7", "well", "skip"):
        assert thread.get_by_text(typed, exact=False).count()

    response = Response.objects.get(patient=cast.patient.patient)
    assert response.status == "complete"
    assert dict(Answer.objects.filter(response=response).values_list("item_code", "value")) == {
        "mood": 7,
        "sleep": 3,
        "note": None,
    }

    # The clinician, on her own computer (a new browser context), sees it on the board.
    desk = desktop.page
    _sign_in(desktop, cast.assigned_clinician.username)
    device = TOTPDevice.objects.get(user=cast.assigned_clinician)
    desk.get_by_label("6-digit code from your app").fill(current_code(device))
    desktop.click(desk.get_by_role("button", name="Continue"))
    desktop.goto("/staff/?sort=checkin")
    row = desk.get_by_role("row").filter(has=desk.get_by_role("link", name="Garcia, Maria"))
    cells = row.get_by_role("cell")
    # Last check-in: "0 minutes ago", not "Never" (the columns after the name).
    last_checkin = cells.nth(4).inner_text()
    assert "ago" in last_checkin and "minute" in last_checkin, last_checkin
    desktop.click(row.get_by_role("link", name="Garcia, Maria"))
    assert desk.get_by_text("Daily mood: mean 7.0 over 1 check-ins.", exact=True).is_visible()


def test_a_crisis_reply_on_the_phone_gets_the_crisis_numbers_at_once(phone, demo_phone):
    cast = demo_phone
    page = _turn_on_texts_and_open_the_phone(phone)
    _reply(phone, page, "I want to kill myself")
    answer = _last_text(page)
    assert "988" in answer and "911" in answer, answer
    assert UrgentContactRequest.objects.filter(patient=cast.patient.patient).exists()
    inbound = InboundMessage.objects.get()
    assert inbound.patient == cast.patient.patient
    assert ContactPreference.objects.get().sms_phone == "+14135550142"
