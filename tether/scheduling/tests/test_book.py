"""Booking an individual or family session: people the gate lets write the patient's
general record; the past and clashes refused with the typed values kept."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tether.scheduling.models import Appointment

pytestmark = pytest.mark.django_db


def _url(cast: Any) -> Any:
    return reverse("scheduling:book", args=[cast.patient.patient.pk])


def _form(cast: Any, day: Any, **overrides: Any) -> Any:
    data = {
        "kind": "individual",
        "day": day.isoformat(),
        "starts_at_time": "10:00",
        "minutes": "50",
        "clinician": cast.assigned_clinician.staff_member.pk,
        "location": "Office 4",
        "video_url": "https://video.example.org/maria",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("persona", ("assigned_clinician", "clinical_lead", "front_desk"))
def test_the_right_people_book(cast, client_as, persona):
    day = timezone.now().astimezone(cast.iop.tzinfo).date() + dt.timedelta(days=3)
    client = client_as(getattr(cast, persona))
    assert client.get(_url(cast)).status_code == 200
    assert client.post(_url(cast), _form(cast, day)).status_code == 302
    assert Appointment.objects.get().video_url == "https://video.example.org/maria"


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
def test_it_checks_access_and_the_wrong_people_cannot_post(cast, client_as, persona):
    day = timezone.now().astimezone(cast.iop.tzinfo).date() + dt.timedelta(days=3)
    client = client_as(getattr(cast, persona))
    assert client.get(_url(cast)).status_code == 404
    assert client.post(_url(cast), _form(cast, day)).status_code == 404
    assert not Appointment.objects.exists()


def test_a_session_in_the_past_is_refused_and_the_form_kept(cast, client_as):
    day = timezone.now().astimezone(cast.iop.tzinfo).date() - dt.timedelta(days=2)
    response = client_as(cast.front_desk).post(_url(cast), _form(cast, day, location="Office 9"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "has already passed" in body
    assert 'value="Office 9"' in body
    assert not Appointment.objects.exists()


def test_neither_room_nor_link_is_refused(cast, client_as):
    day = timezone.now().astimezone(cast.iop.tzinfo).date() + dt.timedelta(days=3)
    response = client_as(cast.front_desk).post(
        _url(cast), _form(cast, day, location="", video_url="")
    )
    assert "Give a room, a video link, or both." in response.content.decode()


def test_a_double_booked_clinician_or_room_is_refused_on_the_form_and_nothing_is_saved(
    cast, client_as
):
    day = timezone.now().astimezone(cast.iop.tzinfo).date() + dt.timedelta(days=3)
    client = client_as(cast.front_desk)
    assert client.post(_url(cast), _form(cast, day)).status_code == 302
    other = reverse("scheduling:book", args=[cast.other_patient.patient.pk])
    # Same clinician, same time, another room: the clinician is named.
    response = client.post(other, _form(cast, day, location="Office 9", starts_at_time="10:30"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "already runs “Individual session” then." in body
    assert 'value="Office 9"' in body  # what was typed is kept
    # Another clinician, same room: the room is named.
    response = client.post(
        other,
        _form(cast, day, clinician=cast.unassigned_clinician.staff_member.pk, video_url=""),
    )
    assert response.status_code == 400
    assert "the room Office 4 is already booked for “Individual session”." in (
        response.content.decode()
    )
    assert Appointment.objects.count() == 1
