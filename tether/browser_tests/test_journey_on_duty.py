"""Issue 14: what the person in crisis and the clinician on duty see, in Chromium.

Each journey failed before the change it names; axe-core runs on every page.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.tests.helpers import current_code
from tether.crisis import services
from tether.crisis.health import scheduler_beat
from tether.crisis.models import UrgentContactRequest
from tether.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NY = zoneinfo.ZoneInfo("America/New_York")


def sign_in_patient(phone: Any, username: str = "maria.g") -> None:
    phone.goto("/accounts/sign-in/")
    page = phone.page
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    phone.click(page.get_by_role("button", name="Sign in"))


def sign_in_staff(desktop: Any, user: Any) -> None:
    page = desktop.page
    desktop.goto("/accounts/sign-in/")
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    desktop.click(page.get_by_role("button", name="Sign in"))
    device = TOTPDevice.objects.get(user=user)
    page.get_by_label("6-digit code from your app").fill(current_code(device))
    desktop.click(page.get_by_role("button", name="Continue"))


def test_the_clinicians_landing_page_shows_the_waiting_request_and_its_clock(desktop, cast):
    scheduler_beat()
    urgent = services.urgent_contact_raise(
        patient=cast.patient.patient, source=UrgentContactRequest.Source.PATIENT_BUTTON
    )
    sign_in_staff(desktop, cast.assigned_clinician)
    page = desktop.page
    assert page.url.endswith("/staff/")
    at = timezone.localtime(urgent.escalate_at, NY).strftime("%-I:%M %p")
    banner = page.get_by_role("region", name="1 urgent request waiting for you")
    assert banner.is_visible()
    assert banner.get_by_text(f"escalates at {at}").is_visible()
    assert page.get_by_role("link", name="Urgent requests 1 waiting").is_visible()
    desktop.click(banner.get_by_role("link", name="Open the request"))
    desktop.click(page.get_by_role("button", name="Acknowledge"))
    assert page.get_by_role("region", name="1 urgent request waiting for you").count() == 0
