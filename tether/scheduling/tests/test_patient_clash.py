"""A patient is never booked into two sessions at the same time: a clear sentence, nothing
saved, what was typed kept."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tether.scheduling import services
from tether.scheduling.models import Appointment, RosterEntry

pytestmark = pytest.mark.django_db


def _next_meeting(group: Any) -> Any:
    return group.occurrences.filter(starts_at__gt=timezone.now()).order_by("starts_at").first()


def test_an_individual_session_during_the_patients_group_is_refused(
    cast: Any, client_as: Any, group: Any
) -> None:
    meeting = _next_meeting(group)
    local = meeting.starts_at.astimezone(cast.iop.tzinfo)
    before = Appointment.objects.count()
    response = client_as(cast.front_desk).post(
        reverse("scheduling:book", args=[cast.patient.patient.pk]),
        {
            "kind": "individual",
            "day": local.date().isoformat(),
            "starts_at_time": local.strftime("%H:%M"),
            "minutes": "50",
            "clinician": cast.unassigned_clinician.staff_member.pk,
            "location": "Office 12",
            "video_url": "",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "is already booked for “Evening skills group”" in body
    assert 'value="Office 12"' in body
    assert Appointment.objects.count() == before


def test_joining_a_group_that_meets_during_another_of_the_patients_groups_is_refused(
    cast: Any, group: Any
) -> None:
    # Another group at the same hour with another facilitator, the patient not on it yet.
    first = _next_meeting(group).starts_at.astimezone(cast.iop.tzinfo)
    other = services.series_create(
        program=cast.iop,
        title="Second group",
        weekdays="0123456",
        starts_at_time=first.time(),
        minutes=60,
        first_day=first.date(),
        last_day=first.date() + dt.timedelta(days=3),
        facilitator=cast.unassigned_clinician.staff_member,
        location="",
        video_url="https://video.example.org/second",
        user=cast.front_desk,
    )
    with pytest.raises(services.ScheduleError) as refused:
        services.roster_add(series=other, patient=cast.patient.patient, user=cast.front_desk)
    assert "is already booked for “Evening skills group”" in refused.value.problems[0]
    assert not RosterEntry.objects.filter(series=other).exists()


def test_moving_a_session_onto_the_patients_group_is_refused(cast: Any, group: Any) -> None:
    meeting = _next_meeting(group)
    booked = services.session_book(
        program=cast.iop,
        patient=cast.patient.patient,
        kind="individual",
        starts_at=meeting.starts_at + dt.timedelta(hours=3),
        minutes=50,
        clinician=cast.unassigned_clinician.staff_member,
        location="",
        video_url="",
        user=cast.front_desk,
    )
    with pytest.raises(services.ScheduleError):
        services.session_change(
            appointment=booked,
            starts_at=meeting.starts_at,
            minutes=50,
            location="",
            video_url="",
            user=cast.front_desk,
        )
    booked.refresh_from_db()
    assert booked.starts_at == meeting.starts_at + dt.timedelta(hours=3)


def test_a_cancelled_meeting_does_not_block_the_time(cast: Any, group: Any) -> None:
    meeting = _next_meeting(group)
    services.session_cancel(appointment=meeting, reason="other", user=cast.front_desk)
    booked = services.session_book(
        program=cast.iop,
        patient=cast.patient.patient,
        kind="individual",
        starts_at=meeting.starts_at,
        minutes=50,
        clinician=cast.unassigned_clinician.staff_member,
        location="",
        video_url="",
        user=cast.front_desk,
    )
    assert booked.pk
