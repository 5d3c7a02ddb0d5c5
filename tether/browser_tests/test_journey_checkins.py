"""Check-ins on a 360 px phone: the daily check-in timed and its taps counted, a
dropped connection mid-way, and a PHQ-9 with item 9 positive seen by the clinician."""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest

from tether.accounts.tests.helpers import current_code
from tether.checkins.models import ProgramInstrument, Response
from tether.checkins.sync import sync_instruments
from tether.checkins.templatetags.checkins import safety_plan_url
from tether.flags.models import Flag
from tether.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _turn_on(cast: Any) -> None:
    sync_instruments()
    for code, schedule in (
        ("daily", ProgramInstrument.Schedule.DAILY),
        ("phq9", ProgramInstrument.Schedule.WEEKLY),
    ):
        ProgramInstrument.objects.create(
            organization=cast.organization,
            program=cast.iop,
            instrument_code=code,
            schedule=schedule,
        )


def _sign_in(browser: Any, username: str) -> None:
    browser.goto("/accounts/sign-in/")
    page = browser.page
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    browser.click(page.get_by_role("button", name="Sign in"))


def _tap(browser: Any, locator: Any, taps: list[int]) -> None:
    taps.append(1)
    browser.click(locator)


def test_a_patient_does_the_daily_check_in_in_under_a_minute(phone, cast):
    _turn_on(cast)
    _sign_in(phone, "maria.g")
    page = phone.page
    timings, tap_counts = [], []
    for _run in range(3):
        phone.goto("/me/")
        started, taps = time.monotonic(), list[int]()
        _tap(phone, page.get_by_role("button", name="How are you today?"), taps)
        assert page.get_by_text("1 of 3").is_visible()
        assert page.get_by_role("heading", name="How is your mood today?").is_visible()
        _tap(phone, page.get_by_role("button", name="7", exact=True), taps)
        assert page.get_by_text("2 of 3").is_visible()
        _tap(phone, page.get_by_role("button", name="Well", exact=True), taps)
        _tap(phone, page.get_by_role("button", name="Send to my care team"), taps)
        assert page.get_by_role("heading", name="Thank you").is_visible()
        timings.append(time.monotonic() - started)
        tap_counts.append(len(taps))
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        response = Response.objects.get(patient=cast.patient.patient, status="complete")
        # Clear today's check-in so the next run starts fresh.
        response.delete()
    median = statistics.median(timings)
    print(
        f"\nDAILY CHECK-IN: median {median:.2f} s, taps {statistics.median(tap_counts):.0f} "
        f"(runs: {', '.join(f'{t:.2f}' for t in timings)} s)"
    )
    assert median < 60
    assert tap_counts == [4, 4, 4]


def test_an_answer_sent_without_a_connection_is_kept_and_sent_again(phone, cast):
    _turn_on(cast)
    _sign_in(phone, "maria.g")
    page = phone.page
    phone.click(page.get_by_role("button", name="How are you today?"))
    page.context.set_offline(True)
    page.get_by_role("button", name="6", exact=True).click()
    status = page.get_by_role("status").filter(has_text="We could not send your answer")
    status.wait_for()
    phone.check_accessibility()
    assert not Response.objects.get().answers.exists()
    with page.expect_navigation():
        page.context.set_offline(False)
    phone.check_accessibility()
    assert page.get_by_text("2 of 3").is_visible()
    assert list(Response.objects.get().answers.values_list("item_code", "value")) == [("mood", 6)]


def test_item_9_shows_help_at_once_and_the_clinician_sees_the_flag(phone, desktop, cast):
    _turn_on(cast)
    _sign_in(phone, "maria.g")
    page = phone.page
    phone.click(page.get_by_role("button", name="Your weekly questionnaire (PHQ-9)"))
    for position in range(1, 9):
        assert page.get_by_text(f"{position} of 10").is_visible()
        phone.click(page.get_by_role("button", name="Several days"))
    assert page.get_by_role("heading", name="Thoughts that you would be better off dead").count()
    phone.click(page.get_by_role("button", name="Several days"))
    assert page.get_by_role("heading", name="Thank you for telling us").is_visible()
    assert page.get_by_role("link", name="Call 988").get_attribute("href") == "tel:988"
    assert page.get_by_role("link", name="Call 555-0100").is_visible()  # the program's line
    if safety_plan_url():  # the safety plan feature is installed
        assert page.get_by_role("link", name="Open my safety plan").is_visible()
    assert Flag.objects.filter(patient=cast.patient.patient, status="open").count() == 1
    phone.click(page.get_by_role("link", name="Continue the questions"))
    phone.click(page.get_by_role("button", name="Somewhat difficult"))
    assert page.get_by_role("heading", name="Thank you").is_visible()

    desk = desktop.page
    _sign_in(desktop, "dana.clinician")
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=cast.assigned_clinician)
    desk.get_by_label("6-digit code from your app").fill(current_code(device))
    desktop.click(desk.get_by_role("button", name="Continue"))
    desktop.goto(f"/staff/patients/{cast.patient.patient.pk}/")
    assert desk.get_by_text("1 open safety flag").is_visible()
    assert desk.get_by_text("PHQ-9 item 9").first.is_visible()
    desktop.click(desk.get_by_role("link", name="All check-ins and measures, with charts"))
    assert desk.get_by_role("img", name="PHQ-9 over time").is_visible()
