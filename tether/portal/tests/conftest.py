from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tether.organizations.models import Program
from tether.scheduling.models import Appointment, Attendance
from tether.testing.cast import make_patient


@pytest.fixture
def book(cast):
    """``book(user, days=1, title=..., status=...)``: put a patient on a session."""

    def _book(user, *, days: float = 1, title: str = "Evening group", status=None):
        patient = user.patient
        episode = patient.episodes.get()
        starts = timezone.now() + dt.timedelta(days=days)
        appointment = Appointment.objects.create(
            organization=patient.organization,
            program=episode.program,
            kind=Appointment.Kind.GROUP,
            title=title,
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=3),
        )
        return Attendance.objects.create(
            organization=patient.organization,
            appointment=appointment,
            patient=patient,
            episode=episode,
            status=status or Attendance.Status.SCHEDULED,
        )

    return _book


@pytest.fixture
def recovery(cast):
    """A program that treats substance use (42 CFR Part 2) and its patient, Rae."""
    program = Program.objects.create(
        organization=cast.organization,
        name="Recovery IOP",
        kind=Program.Kind.IOP,
        crisis_line="555-0120",
        treats_substance_use=True,
    )
    user = make_patient(
        cast.organization,
        program,
        "rae.recovery",
        first_name="Rae",
        last_name="Reed",
        born=dt.date(1990, 3, 4),
    )
    return program, user.patient
