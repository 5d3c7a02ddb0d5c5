"""Program set-up in a browser: the program admin turns on the PHQ-9 before each session,
puts a clinician on the on-call rota (a shift that ends before it starts is refused
with what was typed kept), and adds a clinician to a patient's care team; the on-call
rota then routes an after-hours request. axe on every page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tether.browser_tests.test_journey_schedule import _sign_in
from tether.checkins.models import ProgramInstrument
from tether.checkins.sync import sync_instruments
from tether.crisis.models import Level
from tether.crisis.services import recipients_at
from tether.organizations.models import OnCallShift
from tether.patients.models import CareTeamMember

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_admin_sets_questionnaires_and_rota_and_the_lead_the_care_team(
    desktop: Any, phone: Any, cast: Any
) -> None:
    sync_instruments()
    browser, page = desktop, desktop.page
    _sign_in(browser, cast.program_admin)
    browser.click(page.get_by_role("link", name="Questionnaires and on-call"))
    page.get_by_label("Program", exact=True).select_option(label="Adult IOP")
    browser.click(page.get_by_role("button", name="Show"))
    phq9 = page.locator("form", has=page.get_by_role("button", name="Save PHQ-9"))
    phq9.get_by_role("combobox").select_option("before_session")
    browser.click(page.get_by_role("button", name="Save PHQ-9"))
    assert ProgramInstrument.objects.get(program=cast.iop, instrument_code="phq9").schedule == (
        "before_session"
    )

    now = timezone.now().astimezone(cast.iop.tzinfo).replace(second=0, microsecond=0)
    start, end = now - dt.timedelta(hours=1), now + dt.timedelta(hours=11)
    page.get_by_label("Clinician on call").select_option(label="Uri Staff")
    page.get_by_label("From").fill(end.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Until").fill(start.strftime("%Y-%m-%dT%H:%M"))
    browser.click(page.get_by_role("button", name="Add the shift"))
    assert page.get_by_text("The shift ends before it starts.").is_visible()
    assert page.get_by_label("From").input_value() == end.strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("From").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Until").fill(end.strftime("%Y-%m-%dT%H:%M"))
    browser.click(page.get_by_role("button", name="Add the shift"))
    assert page.get_by_text("The shift is on the rota.").is_visible()
    assert OnCallShift.objects.count() == 1
    on_call = recipients_at(Level.ON_CALL, patient=cast.patient.patient, program=cast.iop)
    assert on_call == [cast.unassigned_clinician]

    browser.assert_every_page_checked()

    lead, page = phone, phone.page
    _sign_in(lead, cast.clinical_lead)
    lead.goto(f"/staff/patients/{cast.patient.patient.pk}/")
    lead.click(page.get_by_role("link", name="Care team"))
    page.get_by_label("Clinician", exact=True).select_option(label="Uri Staff")
    page.get_by_label("Role on the team").select_option("case_manager")
    lead.click(page.get_by_role("button", name="Add to the care team"))
    assert page.get_by_text("Added to the care team.").is_visible()
    assert CareTeamMember.objects.filter(
        staff_member=cast.unassigned_clinician.staff_member, role="case_manager"
    ).exists()
    lead.assert_every_page_checked()
