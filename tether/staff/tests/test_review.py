from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tether.checkins.models import Answer
from tether.flags.services import flags_sweep
from tether.flags.testing import add_response
from tether.scheduling.models import Appointment, Attendance
from tether.staff.review import note_text, review_data


def _url(cast: Any) -> str:
    return reverse("staff:review", args=[cast.patient.patient.pk])


def _attended(patient: Any, days_ago: int) -> None:
    episode = patient.episodes.get()
    starts = timezone.now() - dt.timedelta(days=days_ago)
    appointment = Appointment.objects.create(
        organization=patient.organization,
        program=episode.program,
        kind=Appointment.Kind.GROUP,
        title="Group",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
    )
    Attendance.objects.create(
        organization=patient.organization,
        appointment=appointment,
        patient=patient,
        episode=episode,
        status=Attendance.Status.ATTENDED,
    )


def _story(patient: Any) -> None:
    now = timezone.now()
    add_response(patient, "phq9", now - dt.timedelta(days=20), total=8)
    _attended(patient, 10)
    add_response(patient, "phq9", now - dt.timedelta(days=12), total=10)
    latest = add_response(patient, "phq9", now - dt.timedelta(days=1), total=17)
    Answer.objects.create(
        organization=patient.organization,
        response=latest,
        item_code="9",
        value=1,
        answered_at=timezone.now() - dt.timedelta(days=1),
    )


def test_it_shows_change_reliable_deterioration_item9_and_flags(cast, client_as):
    _story(cast.patient.patient)
    flags_sweep()
    body = client_as(cast.assigned_clinician).get(_url(cast)).content.decode()
    assert "Since the last attended session" in body
    assert "+7" in body and "Reliable deterioration" in body
    assert "item 9" in body
    assert "PHQ-9 is 8 points above the baseline of this episode." in body
    assert "<textarea" in body and "readonly" in body


def test_it_builds_the_note_from_one_dict(cast):
    patient = cast.patient.patient
    _story(patient)
    data = review_data(patient=patient)
    assert data["scores"][0]["reliable_change"] == "deterioration"
    assert data["scores"][0]["change"] == 7
    text = note_text(data)
    assert "PHQ-9: 17 (change +7 since last session); +9 from baseline 8" in text
    assert "Garcia" not in text  # no identifiers in the block


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("assigned_clinician", 200),
        ("clinical_lead", 200),
        ("on_call", 200),
        ("unassigned_clinician", 404),
        ("front_desk", 404),
        ("program_admin", 404),
        ("other_org_clinician", 404),
        ("patient", 404),
        ("parent", 404),
    ],
)
def test_it_checks_access(cast, client_as, persona, status):
    response = client_as(getattr(cast, persona)).get(_url(cast))
    assert response.status_code == status


def test_it_costs_the_same_queries_whatever_the_history(cast, client_as):
    client = client_as(cast.assigned_clinician)
    patient = cast.patient.patient
    add_response(patient, "phq9", timezone.now() - dt.timedelta(days=30), total=5)
    client.get(_url(cast))  # the first request of a session does one-off work
    with CaptureQueriesContext(connection) as small:
        assert client.get(_url(cast)).status_code == 200
    _story(patient)
    for day in range(1, 9):
        add_response(
            patient, "daily", timezone.now() - dt.timedelta(days=day, hours=1), items={"mood": 4}
        )
    flags_sweep()
    with CaptureQueriesContext(connection) as large:
        response = client.get(_url(cast))
    assert "Daily mood" in response.content.decode()
    assert len(large.captured_queries) == len(small.captured_queries)
    print(f"\npre-session review: {len(large.captured_queries)} queries")


def test_the_reliable_change_values_come_from_the_instrument_definitions():
    """PHQ-9 6 and GAD-7 4 points (shared/reference/clinical.md), read from the shipped
    instrument files rather than repeated in the review's code."""
    from tether.staff.review import RELIABLE_CHANGE

    assert RELIABLE_CHANGE == {"phq9": 6, "gad7": 4}
