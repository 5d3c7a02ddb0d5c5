"""The sweep's speed-ups change no flag: a seeded story of a small program over eight
weeks (daily check-ins with mood and craving, weekly PHQ-9 and GAD-7, sign-ins,
groups, homework, care-team messages; some patients worsen, some drift away), swept
every third evening. Each sweep is run twice on the same data: once with the rules'
full queries on every patient (the definition, ``rules.EVALUATORS``) and rolled back,
then with the sped-up sweep (candidates first, ``rules.CANDIDATES``). Both raise the
same flags, for the same patients, with the same values: on the first sweep (many new
flags) and on every steady sweep after it.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.db import transaction

from tether.accounts.models import User
from tether.checkins.models import ProgramInstrument
from tether.flags import rules
from tether.flags.models import Flag, FlagRule
from tether.flags.services import flags_sweep, rules_ensure_defaults
from tether.flags.testing import add_response
from tether.homework.models import Assignment
from tether.messaging.models import Message, Thread
from tether.patients.models import Episode, Patient
from tether.scheduling.models import Appointment, Attendance
from tether.testing.cast import make_patient

START = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
DAYS = 56
PATIENTS = 14


def _at(day: int, hour: int) -> dt.datetime:
    return START + dt.timedelta(days=day, hours=hour)


class _Rollback(Exception):
    pass


Raised = set[tuple[int, str, int | None]]


def _raised(now: dt.datetime, patient_ids: list[int] | None = None) -> Raised:
    flags = Flag.objects.filter(raised_at=now)
    if patient_ids is not None:
        flags = flags.filter(patient_id__in=patient_ids)
    return set(flags.values_list("patient_id", "reason", "value"))


def _story(cast) -> list[Patient]:
    """Fourteen patients, each with a seeded temperament; rows written day by day."""
    rng = random.Random(20)  # noqa: S311 - a seeded story, not a secret
    org, program = cast.organization, cast.iop
    ProgramInstrument.objects.get_or_create(
        organization=org, program=program, instrument_code="daily", defaults={"schedule": "daily"}
    )
    patients = [
        make_patient(org, program, f"story{i}", first_name="Story", last_name=str(i)).patient
        for i in range(PATIENTS)
    ]
    Episode.objects.filter(patient__in=patients).update(admitted_on=START.date())
    for i, patient in enumerate(patients):
        thread = Thread.objects.create(organization=org, patient=patient)
        rate = rng.choice([0.95, 0.8, 0.6])
        mood = rng.randint(5, 8)
        craving = rng.randint(1, 4)
        phq9 = rng.randint(4, 12)
        # How this patient's story turns, and when.
        turn = ["steady", "worse", "away", "craving", "noisy", "worse", "away"][i % 7]
        turn_day = rng.randint(28, 50)
        episode = patient.episodes.get(status="active")
        for day in range(DAYS):
            late = day >= turn_day
            if turn == "away" and late:
                continue  # silent: no sign-in, no check-in, no reply
            if rng.random() < rate:
                value_mood = mood - (4 if turn == "worse" and late else 0) + rng.randint(-2, 2)
                value_craving = craving + (4 if turn == "craving" and late else 0)
                if turn == "noisy":
                    value_mood = rng.randint(1, 10)
                    value_craving = rng.randint(0, 10)
                add_response(
                    patient,
                    "daily",
                    _at(day, 9 + i % 5),
                    items={
                        "mood": max(1, min(10, value_mood)),
                        "craving": max(0, min(10, value_craving)),
                    },
                )
                User.objects.filter(pk=patient.user_id or 0).update(last_login=_at(day, 9))
            if day % 7 == i % 7 and rng.random() < 0.9:
                score = phq9 + (day // 7 if turn == "worse" and late else 0) + rng.randint(-2, 2)
                score = max(0, min(27, score))
                add_response(patient, "phq9", _at(day, 14), total=score)
                add_response(patient, "gad7", _at(day, 14), total=max(0, min(21, score - 2)))
            if day % 7 == (i + 3) % 7:
                appointment = Appointment.objects.create(
                    organization=org,
                    program=program,
                    kind=Appointment.Kind.GROUP,
                    title="Group",
                    starts_at=_at(day, 17),
                    ends_at=_at(day, 19),
                )
                Attendance.objects.create(
                    organization=org,
                    appointment=appointment,
                    patient=patient,
                    episode=episode,
                    status="absent" if rng.random() < 0.2 else "attended",
                )
                done = rng.random() < 0.7
                Assignment.objects.create(
                    organization=org,
                    patient=patient,
                    title="Practice",
                    template_key="practice",
                    definition={},
                    assigned_by=cast.assigned_clinician,
                    record_category="shared",
                    starts_on=_at(day, 0).date(),
                    due_on=_at(day + 6, 0).date(),
                    status="done" if done else "not_started",
                    completed_at=_at(day + 5, 12) if done else None,
                )
                Message.objects.create(
                    organization=org,
                    thread=thread,
                    author_kind="staff",
                    created_at=_at(day, 11),
                    record_category="shared",
                )
                if rng.random() < 0.7:
                    Message.objects.create(
                        organization=org,
                        thread=thread,
                        author_kind="patient",
                        created_at=_at(day, 13),
                        record_category="shared",
                    )
                    Thread.objects.filter(pk=thread.pk).update(last_patient_message_at=_at(day, 13))
    return patients


def _reference_sweep(now: dt.datetime, monkeypatch, **kwargs) -> Raised:
    """The sweep with every rule's full query on every patient, rolled back."""
    found: Raised = set()
    with monkeypatch.context() as patch:
        patch.setattr(rules, "CANDIDATES", {})
        try:
            with transaction.atomic():
                flags_sweep(now=now, **kwargs)
                found = _raised(now, kwargs.get("patient_ids"))
                raise _Rollback
        except _Rollback:
            pass
    return found


@pytest.mark.django_db
def test_the_sped_up_sweep_raises_exactly_the_flags_of_the_full_rules(cast, monkeypatch):
    patients = _story(cast)
    rules_ensure_defaults()
    # Every rule on, the ones off by default too, so that each is compared.
    FlagRule.objects.filter(program=cast.iop).update(enabled=True)
    seen: set[str] = set()
    firsts: list[int] = []
    columns = ("patient_id", "pk", "value")
    for day in range(36, DAYS, 3):
        now = _at(day, 22)
        # Rule by rule: the candidates-first query returns the full query's rows.
        for rule in FlagRule.objects.filter(program=cast.iop, code__in=list(rules.CANDIDATES)):
            full = set(rules.EVALUATORS[rule.code](rule, now).values_list(*columns))
            fast = set(rules.evaluate(rule, now).values_list(*columns))
            assert fast == full, (rule.code, day)
        # One patient's evaluation (as soon as their data arrives), then the sweep.
        one = [patients[day % PATIENTS].pk]
        expected = _reference_sweep(now, monkeypatch, patient_ids=one)
        flags_sweep(now=now, patient_ids=one)
        assert _raised(now, one) == expected, f"day {day}, one patient"
        expected = _reference_sweep(now, monkeypatch)
        flags_sweep(now=now)
        raised = _raised(now)
        assert raised == expected, f"day {day}"
        firsts.append(len(raised))
        seen |= {reason for _p, reason, _v in raised}
        # Some flags are resolved, so that rules may fire again for the same patients.
        if day % 6 == 1:
            Flag.objects.filter(status="open", kind="deterioration").update(
                status="closed", closed_at=now
            )
    assert firsts[0] >= 3, (firsts, seen)  # the first sweep raises several flags at once
    # The story exercises the rules that have candidates.
    assert {"phq9_rise", "mood_drop", "craving_rise", "disengagement"} <= seen, seen
    assert seen & {"phq9_deterioration", "gad7_deterioration"}, seen
