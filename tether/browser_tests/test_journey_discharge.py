"""Admission to discharge in a browser: the clinician steps a patient down from PHP to
IOP, a discharge dated before the admission is refused with what was typed kept, then
the patient is discharged as "stopped attending" with an aftercare plan; the patient
sees the plan and the final PHQ-9 and GAD-7 on a phone. axe on every page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tether.browser_tests.test_journey_schedule import _sign_in
from tether.checkins.sync import sync_instruments
from tether.organizations.models import Program
from tether.patients.models import Episode, LevelOfCareChange

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _program_today() -> dt.date:
    """Today on the cast program's clock (the services' "today"), not UTC's: the two
    differ every evening in the program's time zone."""
    return timezone.now().astimezone(Program.objects.get(name="Adult IOP").tzinfo).date()


def test_step_down_then_discharge_and_the_patient_sees_the_aftercare_plan(
    desktop: Any, phone: Any, cast: Any
) -> None:
    sync_instruments()
    episode = Episode.objects.get(patient=cast.patient.patient)
    Episode.objects.filter(pk=episode.pk).update(level_of_care="php")
    browser, page = desktop, desktop.page
    _sign_in(browser, cast.assigned_clinician)
    browser.goto(f"/staff/patients/{cast.patient.patient.pk}/")
    browser.click(page.get_by_role("link", name="Admission, level of care and discharge"))
    page.get_by_label("New level of care").select_option("iop")
    page.get_by_label("Why").select_option("improved")
    browser.click(page.get_by_role("button", name="Change the level of care"))
    assert page.get_by_text("Level of care changed to Intensive outpatient.").is_visible()
    assert LevelOfCareChange.objects.get().to_level == "iop"

    page.get_by_label("Discharge date").fill(episode.admitted_on.replace(year=2020).isoformat())
    page.get_by_label("Stopped attending").check()
    page.get_by_label("Next appointments after discharge").fill("Riverside clinic, Monday 9:00")
    browser.click(page.get_by_role("button", name="Discharge", exact=True))
    assert page.get_by_text("A discharge cannot come before the admission on").is_visible()
    assert (
        page.get_by_label("Next appointments after discharge").input_value()
        == "Riverside clinic, Monday 9:00"
    )
    page.get_by_label("Discharge date").fill(_program_today().isoformat())
    browser.click(page.get_by_role("button", name="Discharge", exact=True))
    assert page.get_by_text("Stopped attending (unplanned)").is_visible()
    browser.assert_every_page_checked()

    _sign_in(phone, cast.patient)
    phone.click(phone.page.get_by_role("link", name="After your program: your aftercare plan"))
    assert phone.page.get_by_text("Riverside clinic, Monday 9:00").is_visible()
    assert phone.page.get_by_role("link", name="PHQ-9").is_visible()
    phone.click(phone.page.get_by_role("link", name="GAD-7"))
    phone.assert_every_page_checked()
