"""A patient on a 360 px phone finds "Reminders" under "More", turns texts on with
their number and quiet hours, and sees the choice kept; axe-core passes on the page."""

from __future__ import annotations

from typing import Any

import pytest

from tether.outreach.models import ContactPreference, SmsConsentEvent
from tether.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_patient_turns_on_text_reminders_on_a_phone(phone: Any, cast: Any) -> None:
    page = phone.page
    page.set_viewport_size({"width": 360, "height": 740})
    phone.goto("/accounts/sign-in/")
    page.get_by_label("Username or email").fill("maria.g")
    page.get_by_label("Password").fill(PASSWORD)
    phone.click(page.get_by_role("button", name="Sign in"))
    nav = page.get_by_role("navigation", name="Main")
    nav.locator("summary", has_text="More").click()
    phone.click(nav.get_by_role("link", name="Reminders"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.get_by_label("Yes, send me text messages").check()
    page.get_by_label("Your mobile number for texts").fill("(413) 555-0142")
    page.get_by_label("No messages from").fill("22:00")
    phone.click(page.get_by_role("button", name="Save"))

    assert page.get_by_text("Saved. You can change this at any time.").is_visible()
    assert page.get_by_label("Yes, send me text messages").is_checked()
    pref = ContactPreference.objects.get(patient=cast.patient.patient)
    assert pref.sms_phone == "+14135550142" and pref.quiet_from.hour == 22
    assert SmsConsentEvent.objects.filter(patient=cast.patient.patient, change="opt_in").exists()
