from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tether.scheduling.models import Appointment, Attendance


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
