"""Rules that know the patient: twelve weeks of one patient's life, swept every
evening as the portal does. A steady patient with their own irregular rhythm raises
nothing; a patient who keeps signing in but stops answering is flagged, once."""

from __future__ import annotations

import datetime as dt

import pytest

from tether.accounts.models import User
from tether.checkins.models import ProgramInstrument
from tether.flags.models import Flag
from tether.flags.services import flags_sweep
from tether.flags.testing import add_response
from tether.homework.models import Assignment
from tether.messaging.models import Message, Thread
from tether.patients.models import Episode, Patient
from tether.scheduling.models import Appointment, Attendance

START = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)  # a Monday
WEEKS = 12


def _day(n: int, hour: int = 0) -> dt.datetime:
    return START + dt.timedelta(days=n, hours=hour)


class Life:
    """One patient's portal activity, written day by day."""

    def __init__(self, cast: object, patient: Patient) -> None:
        self.cast = cast
        self.patient = patient
        self.org = patient.organization
        self.thread = Thread.objects.create(organization=self.org, patient=patient)
        self.unanswered: list[dt.datetime] = []
        Episode.objects.filter(patient=patient).update(admitted_on=START.date())
        ProgramInstrument.objects.get_or_create(
            organization=self.org,
            program=cast.iop,  # type: ignore[attr-defined]
            instrument_code="daily",
            defaults={"schedule": "daily"},
        )

    def sign_in(self, n: int) -> None:
        User.objects.filter(pk=self.patient.user_id or 0).update(last_login=_day(n, 9))

    def check_in(self, n: int, mood: int = 6) -> None:
        self.sign_in(n)
        add_response(self.patient, "daily", _day(n, 9), items={"mood": mood, "sleep": 2})

    def weekly(self, n: int, total: int) -> None:
        add_response(self.patient, "phq9", _day(n, 10), total=total)
        add_response(self.patient, "gad7", _day(n, 10), total=max(0, total - 3))

    def group(self, n: int, *, attended: bool) -> None:
        appointment = Appointment.objects.create(
            organization=self.org,
            program=self.cast.iop,  # type: ignore[attr-defined]
            kind=Appointment.Kind.GROUP,
            title="Group",
            starts_at=_day(n, 17),
            ends_at=_day(n, 20),
        )
        Attendance.objects.create(
            organization=self.org,
            appointment=appointment,
            patient=self.patient,
            episode=self.patient.episodes.get(status="active"),
            status="attended" if attended else "absent",
        )

    def homework(self, n: int, *, done: bool) -> None:
        Assignment.objects.create(
            organization=self.org,
            patient=self.patient,
            title="Practice",
            template_key="practice",
            definition={},
            assigned_by=self.cast.assigned_clinician,  # type: ignore[attr-defined]
            record_category="shared",
            starts_on=_day(n).date(),
            due_on=_day(n + 6).date(),
            status="done" if done else "not_started",
            completed_at=_day(n + 5, 12) if done else None,
        )

    def team_writes(self, n: int) -> None:
        Message.objects.create(
            organization=self.org,
            thread=self.thread,
            author_kind="staff",
            created_at=_day(n, 11),
            record_category="shared",
        )

    def reply(self, n: int) -> None:
        when = _day(n, 12)
        Message.objects.create(
            organization=self.org,
            thread=self.thread,
            author_kind="patient",
            created_at=when,
            record_category="shared",
        )
        Thread.objects.filter(pk=self.thread.pk).update(last_patient_message_at=when)

    def sweep(self, n: int) -> None:
        flags_sweep(now=_day(n, 23), patient_ids=[self.patient.pk])


@pytest.mark.django_db
def test_a_steady_but_irregular_patient_raises_no_flag_over_twelve_weeks(cast):
    """Never on weekends, answers in bursts (two quiet weekdays some weeks), away for a
    week and a day (no sign-in, three groups missed, that week's homework undone, the
    team's message answered on return), mood and PHQ-9 steady."""
    life = Life(cast, cast.patient.patient)
    away = set(range(40, 48))
    quiet_weekdays = {15, 16, 57, 58}  # a Tuesday and Wednesday in weeks 3 and 9
    for n in range(WEEKS * 7):
        weekday = n % 7
        if n not in away and weekday < 5 and n not in quiet_weekdays:
            life.check_in(n, mood=6 if n % 3 else 5)
        if weekday in (0, 2, 4):
            life.group(n, attended=n not in away)
        if weekday == 0:
            if n not in away:
                life.weekly(n, 12 + (n // 7) % 2)
            life.homework(n, done=n + 6 not in away and n not in away)
        if weekday == 3:
            life.team_writes(n)
        if weekday == 4 and n not in away:
            life.reply(n)  # answers the team's message the next day (or on return)
        life.sweep(n)
    assert list(Flag.objects.filter(patient=life.patient).values_list("reason", "raised_at")) == []


@pytest.mark.django_db
def test_a_partial_dropout_who_signs_in_but_stops_answering_is_flagged_once(cast):
    """Regular for five weeks; then signs in every day but stops checking in, doing
    homework and answering the team, and misses groups. Flagged for disengagement
    within ten days, with the reasons in one sentence, and not again the next days."""
    life = Life(cast, cast.patient.patient)
    stops = 35
    for n in range(stops + 21):
        weekday = n % 7
        answering = n < stops
        if answering and weekday < 5:
            life.check_in(n)
        else:
            life.sign_in(n)  # still signs in: the old sign-in rule saw nothing
        if weekday in (0, 2, 4):
            life.group(n, attended=answering or n % 2 == 0)
        if weekday == 0:
            if answering:
                life.weekly(n, 12)
            life.homework(n, done=answering and n + 6 < stops)
        if weekday == 3:
            life.team_writes(n)
        if weekday == 4 and answering:
            life.reply(n)
        life.sweep(n)
    flags = list(Flag.objects.filter(patient=life.patient))
    assert [f.reason for f in flags] == ["disengagement"]
    (flag,) = flags
    days_after = (flag.raised_at - START).days - stops
    assert 4 <= days_after <= 10
    assert flag.kind == "disengagement"
    assert "far fewer check-ins than their own usual" in flag.why
    assert "no sign-in" not in flag.why
