"""The admission-and-discharge page: the right people, the wrong people (and their
POSTs), bad input kept; the patient's aftercare page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tether.checkins.sync import sync_instruments
from tether.organizations.models import Program
from tether.patients.models import Episode, LevelOfCareChange

pytestmark = pytest.mark.django_db


def _program_today() -> dt.date:
    """Today on the cast program's clock (the services' "today"), not UTC's: the two
    differ every evening in the program's time zone."""
    return timezone.now().astimezone(Program.objects.get(name="Adult IOP").tzinfo).date()


def _url(cast: Any) -> str:
    return reverse("patients:care", args=[cast.patient.patient.pk])


def _discharge_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "action": "discharge",
        "discharged_on": _program_today().isoformat(),
        "reason": "stopped_attending",
        "next_appointments": "Community clinic, Monday 9:00",
        "who_to_call": "Our front desk",
        "keeps_safety_plan": "on",
        "offer_final_measures": "on",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("persona", ("assigned_clinician", "clinical_lead", "front_desk"))
def test_it_shows_the_episodes_to_the_right_people(cast: Any, client_as: Any, persona: str) -> None:
    body = client_as(getattr(cast, persona)).get(_url(cast)).content.decode()
    assert "Adult IOP" in body


@pytest.mark.parametrize(
    "persona",
    (
        "unassigned_clinician",
        "on_call",
        "program_admin",
        "privacy_officer",
        "other_org_clinician",
        "patient",
        "other_patient",
        "parent",
    ),
)
def test_it_checks_access(cast: Any, client_as: Any, persona: str) -> None:
    assert client_as(getattr(cast, persona)).get(_url(cast)).status_code == 404


@pytest.mark.parametrize(
    "persona",
    (
        "unassigned_clinician",
        "clinical_lead",
        "on_call",
        "front_desk",
        "program_admin",
        "other_org_clinician",
        "patient",
        "parent",
    ),
)
def test_the_wrong_people_cannot_discharge(cast: Any, client_as: Any, persona: str) -> None:
    response = client_as(getattr(cast, persona)).post(_url(cast), _discharge_form())
    assert response.status_code == 404
    assert Episode.objects.get(patient=cast.patient.patient).status == "active"


@pytest.mark.parametrize(
    "persona", ("unassigned_clinician", "front_desk", "program_admin", "on_call", "patient")
)
def test_the_wrong_people_cannot_change_the_level(cast: Any, client_as: Any, persona: str) -> None:
    data = {
        "action": "level",
        "to_level": "op",
        "changed_on": _program_today().isoformat(),
        "reason": "improved",
    }
    assert client_as(getattr(cast, persona)).post(_url(cast), data).status_code == 404
    assert not LevelOfCareChange.objects.exists()


def test_the_clinician_discharges_and_the_patient_sees_the_plan(cast: Any, client_as: Any) -> None:
    sync_instruments()
    response = client_as(cast.assigned_clinician).post(_url(cast), _discharge_form())
    assert response.status_code == 302
    body = client_as(cast.patient).get(reverse("patients:aftercare")).content.decode()
    assert "Community clinic, Monday 9:00" in body
    assert "PHQ-9" in body and "GAD-7" in body
    assert "Need help now?" in body


def test_a_discharge_before_admission_is_refused_on_the_page_with_the_text_kept(
    cast: Any, client_as: Any
) -> None:
    admitted = Episode.objects.get(patient=cast.patient.patient).admitted_on
    response = client_as(cast.assigned_clinician).post(
        _url(cast),
        _discharge_form(discharged_on=(admitted - dt.timedelta(days=1)).isoformat()),
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "A discharge cannot come before the admission on" in body
    assert "Community clinic, Monday 9:00" in body
    assert Episode.objects.get(patient=cast.patient.patient).status == "active"


def test_the_lead_steps_a_patient_down(cast: Any, client_as: Any) -> None:
    data = {
        "action": "level",
        "to_level": "op",
        "changed_on": _program_today().isoformat(),
        "reason": "improved",
    }
    assert client_as(cast.clinical_lead).post(_url(cast), data).status_code == 302
    assert Episode.objects.get(patient=cast.patient.patient).level_of_care == "op"


@pytest.mark.parametrize("persona", ("assigned_clinician", "front_desk", "parent"))
def test_the_aftercare_page_is_the_patients_own(cast: Any, client_as: Any, persona: str) -> None:
    assert client_as(getattr(cast, persona)).get(reverse("patients:aftercare")).status_code == 404
