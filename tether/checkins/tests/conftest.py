from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tether.checkins.models import ProgramInstrument
from tether.checkins.sync import sync_instruments
from tether.scheduling.models import Appointment, Attendance

S = ProgramInstrument.Schedule


@pytest.fixture
def measures_on(cast):
    """The adult IOP asks a daily check-in, a weekly PHQ-9 and a GAD-7 before sessions."""
    sync_instruments()  # transactional tests empty the table the migration filled
    for program in (cast.iop, cast.adolescent_iop):
        for code, schedule in (("daily", S.DAILY), ("phq9", S.WEEKLY), ("gad7", S.BEFORE_SESSION)):
            ProgramInstrument.objects.create(
                organization=cast.organization,
                program=program,
                instrument_code=code,
                schedule=schedule,
            )
    return cast


@pytest.fixture
def book(cast):
    def _book(user, *, hours: float = 30, title: str = "Evening group"):
        patient = user.patient
        episode = patient.episodes.get()
        starts = timezone.now() + dt.timedelta(hours=hours)
        appointment = Appointment.objects.create(
            organization=patient.organization,
            program=episode.program,
            kind=Appointment.Kind.GROUP,
            title=title,
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=3),
        )
        Attendance.objects.create(
            organization=patient.organization,
            appointment=appointment,
            patient=patient,
            episode=episode,
        )
        return appointment

    return _book
