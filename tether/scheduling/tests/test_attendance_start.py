"""Each attendance row's copy of its session's start (``Attendance.starts_at``) is made with
the row and moves with the session, so the caseload board, the patient list and the
patient's home show the next session at its real time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tether.portal.selectors import upcoming_sessions
from tether.scheduling import imports, services
from tether.scheduling.models import Appointment, Attendance
from tether.staff.caseload import caseload_for

pytestmark = pytest.mark.django_db


def _book(cast: Any, start: dt.datetime) -> Appointment:
    return services.session_book(
        program=cast.iop,
        patient=cast.patient.patient,
        kind="individual",
        starts_at=start,
        minutes=50,
        clinician=cast.assigned_clinician.staff_member,
        location="Office 4",
        video_url="",
        user=cast.front_desk,
    )


def _next_on_board(cast: Any) -> dt.datetime | None:
    rows = caseload_for(user=cast.assigned_clinician)
    found: dt.datetime | None = next(
        r.next_session_at for r in rows if r.pk == cast.patient.patient.pk
    )
    return found


def test_a_booked_session_is_the_next_one_and_moves_when_it_is_moved(cast):
    start = (timezone.now() + dt.timedelta(days=3)).replace(microsecond=0)
    appointment = _book(cast, start)
    assert Attendance.objects.get(appointment=appointment).starts_at == start
    assert _next_on_board(cast) == start

    later = start + dt.timedelta(days=2, hours=1)
    services.session_change(
        appointment=appointment,
        starts_at=later,
        minutes=50,
        location="Office 4",
        video_url="",
        user=cast.front_desk,
    )
    assert Attendance.objects.get(appointment=appointment).starts_at == later
    assert _next_on_board(cast) == later
    assert [a.appointment_id for a in upcoming_sessions(patient=cast.patient.patient)] == [
        appointment.pk
    ]

    # Cancelled: no longer anyone's next session, whatever its copy says.
    services.session_cancel(appointment=appointment, reason="other", user=cast.front_desk)
    assert _next_on_board(cast) is None
    assert list(upcoming_sessions(patient=cast.patient.patient)) == []


def test_an_update_from_another_system_moves_the_copy_too(cast):
    start = (timezone.now() + dt.timedelta(days=3)).replace(microsecond=0)
    appointment = _book(cast, start)
    moved = start + dt.timedelta(hours=4)
    row = imports.ProposedSession(line=1)
    row.existing = appointment
    row.kind = appointment.kind
    row.starts_at, row.ends_at = moved, moved + dt.timedelta(minutes=50)
    row.clinician = appointment.clinician
    row.location, row.video_url = "Office 4", ""
    imports._change(row, now=timezone.now())
    assert Attendance.objects.get(appointment=appointment).starts_at == moved
    assert _next_on_board(cast) == moved


def test_rows_made_in_bulk_or_one_by_one_carry_the_start(cast, group):
    # A group's roster (bulk_create, services.roster_add) and a row made directly.
    for attendance in Attendance.objects.filter(appointment__series=group):
        assert attendance.starts_at == attendance.appointment.starts_at
    appointment = group.occurrences.order_by("-starts_at").first()
    assert appointment is not None
    made = Attendance.objects.create(
        organization=cast.organization,
        appointment=appointment,
        patient=cast.other_patient.patient,
        episode=cast.other_patient.patient.episodes.get(),
    )
    assert made.starts_at == appointment.starts_at
