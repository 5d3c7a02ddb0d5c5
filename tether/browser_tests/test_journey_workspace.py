"""The clinician's workspace in a browser: the caseload board, a pre-session review
that says why a patient is flagged, and the clinical lead's flag queue."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.models import User
from tether.accounts.tests.helpers import current_code
from tether.flags.models import Flag, FlagRule
from tether.flags.services import flags_sweep, rules_ensure_defaults
from tether.flags.testing import add_response
from tether.patients.models import Episode
from tether.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in_staff(browser: Any, user: User) -> None:
    browser.goto("/accounts/sign-in/")
    page = browser.page
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    browser.click(page.get_by_role("button", name="Sign in"))
    device = TOTPDevice.objects.get(user=user)
    page.get_by_label("6-digit code from your app").fill(current_code(device))
    browser.click(page.get_by_role("button", name="Continue"))


def _stories(cast: Any) -> None:
    """Like the demo: Garcia's PHQ-9 climbs (deteriorating), Kim goes silent."""
    now = timezone.now()
    Episode.objects.update(admitted_on=(now - dt.timedelta(days=30)).date())
    User.objects.filter(kind="patient").update(last_login=now - dt.timedelta(hours=3))
    User.objects.filter(pk=cast.adolescent.pk).update(last_login=now - dt.timedelta(days=10))
    for days, total in ((28, 10), (14, 10), (1, 17)):
        add_response(cast.patient.patient, "phq9", now - dt.timedelta(days=days), total=total)
    # The single-signal sign-in rule is off by default (the combined disengagement rule
    # replaces it); this program has turned it on.
    rules_ensure_defaults()
    FlagRule.objects.filter(code="no_login").update(enabled=True)
    flags_sweep()


def test_the_clinician_opens_the_board_and_the_review_and_sees_why(desktop, cast):
    _stories(cast)
    _sign_in_staff(desktop, cast.assigned_clinician)
    page = desktop.page
    desktop.goto("/staff/")
    assert page.get_by_role("heading", name="Caseload").is_visible()
    desktop.click(page.get_by_role("link", name="Garcia, Maria"))
    assert page.get_by_role("heading", name="Pre-session review: Maria Garcia").is_visible()
    flags = page.locator("section", has=page.get_by_role("heading", name="Open flags"))
    assert flags.get_by_text("PHQ-9 is 7 points above the baseline of this episode.").is_visible()
    assert page.get_by_text("Reliable deterioration").first.is_visible()
    note = page.get_by_label("Plain text, ready to paste").input_value()
    assert "reliable deterioration" in note


def test_the_lead_documents_outreach_to_a_silent_patient_and_resolves(desktop, cast):
    _stories(cast)
    _sign_in_staff(desktop, cast.clinical_lead)
    page = desktop.page
    desktop.goto("/staff/flags/")
    card = page.locator("section", has=page.get_by_role("heading", name="Not signing in"))
    assert card.get_by_text("Has not signed in to the portal for 7 days or more.").is_visible()
    desktop.click(card.get_by_role("button", name="Acknowledge"))
    assert page.get_by_text("Flag acknowledged.").is_visible()
    card = page.locator("section", has=page.get_by_role("heading", name="Not signing in"))
    card.get_by_text("Resolve…").click()  # folded away until needed
    card.get_by_label("What was done").select_option("called")
    card.get_by_label("Note (needed when no action was taken)").fill("Reached her, back Monday")
    desktop.click(card.get_by_role("button", name="Resolve"))
    assert page.get_by_text("Flag resolved and the action documented.").is_visible()
    flag = Flag.objects.get(reason="no_login")
    assert (flag.status, flag.action, flag.closed_by) == ("closed", "called", cast.clinical_lead)


def test_the_board_review_and_queue_pass_axe_on_a_phone(phone, cast):
    _stories(cast)
    _sign_in_staff(phone, cast.clinical_lead)
    page = phone.page
    phone.goto("/staff/?sort=flags")
    assert page.get_by_role("heading", name="Caseload").is_visible()
    phone.goto(f"/staff/patients/{cast.patient.patient.pk}/review/")
    assert page.get_by_role("heading", name="Copy into the session note").is_visible()
    phone.goto("/staff/flags/")
    assert page.get_by_role("heading", name="Figures for the past 8 weeks").is_visible()
    flag = Flag.objects.get(reason="phq9_deterioration")
    phone.goto(f"/staff/flags/{flag.pk}/snooze/")
    assert page.get_by_label("Quiet until").is_visible()
