"""Secure messages from the clinician's side, the phrase list, and the page a patient
sees when the database is down. Every page is checked with axe-core."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.tests.helpers import current_code
from tether.crisis import services as crisis_services
from tether.messaging import services
from tether.messaging.models import InternalNote, Message
from tether.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in_staff(desktop: Any, user: Any) -> None:
    page = desktop.page
    desktop.goto("/accounts/sign-in/")
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    desktop.click(page.get_by_role("button", name="Sign in"))
    device = TOTPDevice.objects.get(user=user)
    page.get_by_label("6-digit code from your app").fill(current_code(device))
    desktop.click(page.get_by_role("button", name="Continue"))


def test_a_clinician_answers_from_the_inbox_and_leaves_a_note(desktop, cast):
    services.message_send_by_patient(
        patient=cast.patient.patient, author=cast.patient, body="Can we talk about sleep?"
    )
    _sign_in_staff(desktop, cast.assigned_clinician)
    page = desktop.page
    desktop.click(page.get_by_role("link", name="Messages", exact=True))
    assert page.get_by_text("Unread").first.is_visible()
    desktop.click(page.get_by_role("link", name="Maria Garcia"))
    page.get_by_label("Reply to the patient").fill("Yes, let's start Tuesday.")
    desktop.click(page.get_by_role("button", name="Send reply"))
    assert page.get_by_text("Dana Staff (Clinician) answered").is_visible()
    page.get_by_label("Internal note (staff only, never shown to the patient)").fill(
        "Sleep log to bring."
    )
    desktop.click(page.get_by_role("button", name="Save note"))
    assert page.get_by_text("Sleep log to bring.").is_visible()
    assert Message.objects.filter(author_kind="staff").count() == 1
    assert InternalNote.objects.count() == 1


def test_the_lead_curates_the_crisis_phrases(desktop, cast):
    _sign_in_staff(desktop, cast.clinical_lead)
    page = desktop.page
    desktop.goto("/messages/inbox/")
    desktop.click(page.get_by_role("link", name="Crisis phrases that raise an urgent request"))
    page.get_by_label("Add a phrase").fill("going to disappear")
    desktop.click(page.get_by_role("button", name="Add"))
    assert page.get_by_text("Phrase added.").is_visible()


def test_the_patient_is_told_plainly_when_the_database_is_down(phone, cast):
    phone.goto("/accounts/sign-in/")
    page = phone.page
    page.get_by_label("Username or email").fill("maria.g")
    page.get_by_label("Password").fill(PASSWORD)
    phone.click(page.get_by_role("button", name="Sign in"))
    phone.click(page.get_by_role("link", name="Need help now?"))
    with mock.patch.object(
        crisis_services, "urgent_contact_raise", side_effect=OperationalError("down")
    ):
        phone.click(page.get_by_role("button", name="Ask my care team to contact me urgently"))
    assert page.get_by_role("heading", name="Your request did not go through").is_visible()
    assert page.get_by_role("link", name="Call 988").get_attribute("href") == "tel:988"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
