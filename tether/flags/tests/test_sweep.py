from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tether.checkins.models import ProgramInstrument
from tether.crisis.scheduler import enqueue_due
from tether.flags.models import Flag, FlagRule
from tether.flags.rules import RULES
from tether.flags.services import (
    flag_acknowledge,
    flag_resolve,
    flags_sweep,
    rule_update,
    rules_ensure_defaults,
)
from tether.flags.tasks import sweep_flags
from tether.flags.testing import add_response
from tether.messaging.models import Message, Thread
from tether.patients.models import Episode, Patient
from tether.privacy.models import AuditEvent
from tether.testing.cast import make_patient

NOW = dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def quiet(cast):
    """Everyone signed in recently and admitted a week ago: no disengagement flags."""
    from tether.accounts.models import User

    User.objects.filter(kind="patient").update(last_login=NOW - dt.timedelta(hours=2))
    Episode.objects.update(admitted_on=(NOW - dt.timedelta(days=3)).date())
    return cast


def _deteriorate(patient: Patient, baseline: int = 8, latest: int = 16) -> None:
    add_response(patient, "phq9", NOW - dt.timedelta(days=20), total=baseline)
    add_response(patient, "phq9", NOW - dt.timedelta(days=2), total=latest)


def test_it_creates_the_default_rules_for_each_program(cast):
    rules_ensure_defaults()
    assert FlagRule.objects.filter(program=cast.iop).count() == len(RULES)
    assert rules_ensure_defaults() == 0
    rule = FlagRule.objects.get(program=cast.iop, code="phq9_deterioration")
    assert (rule.threshold, rule.kind, rule.enabled) == (6, "deterioration", True)


def test_it_refuses_a_nonsense_threshold_and_changes_nothing(cast):
    rules_ensure_defaults()
    rule = FlagRule.objects.get(program=cast.iop, code="phq9_deterioration")
    with pytest.raises(ValidationError) as error:
        rule_update(
            actor=cast.program_admin,
            rule=rule,
            threshold=0,
            window_days=28,
            severity=2,
            enabled=True,
        )
    assert "between 3 and 27" in str(error.value)
    rule.refresh_from_db()
    assert rule.threshold == 6
    changed = rule_update(
        actor=cast.program_admin, rule=rule, threshold=5, window_days=28, severity=2, enabled=True
    )
    assert changed.threshold == 5
    assert AuditEvent.objects.filter(object_type="flags.flagrule").count() == 1


def test_it_flags_reliable_deterioration_once_and_says_why(quiet):
    patient = quiet.patient.patient
    _deteriorate(patient)
    _deteriorate(quiet.other_patient.patient, baseline=10, latest=14)  # a rise of 4: not reliable
    assert flags_sweep(now=NOW) == {"phq9_deterioration": 1}
    flag = Flag.objects.get()
    assert flag.patient == patient and flag.kind == "deterioration"
    assert flag.why == "PHQ-9 is 8 points above the first score of this episode."
    assert flag.evidence == "scores"
    assert flags_sweep(now=NOW + dt.timedelta(minutes=15)) == {}
    assert AuditEvent.objects.filter(object_type="flags.flag", action="create").count() == 1


def test_it_raises_again_when_the_condition_persists_after_resolving(quiet):
    _deteriorate(quiet.patient.patient)
    flags_sweep(now=NOW)
    flag = Flag.objects.get()
    flag_resolve(actor=quiet.clinical_lead, flag=flag, action="called", now=NOW)
    assert flags_sweep(now=NOW + dt.timedelta(minutes=15)) == {"phq9_deterioration": 1}
    assert Flag.objects.filter(status="open").count() == 1


def test_it_flags_a_sustained_drop_in_mood_and_rising_craving(quiet):
    patient = quiet.patient.patient
    for day in range(14, 0, -1):
        mood = 7 if day > 7 else 3
        craving = 2 if day > 7 else 6
        add_response(
            patient, "daily", NOW - dt.timedelta(days=day), items={"mood": mood, "craving": craving}
        )
    raised = flags_sweep(now=NOW)
    assert raised == {"mood_drop": 1, "craving_rise": 1}
    assert Flag.objects.get(reason="mood_drop").why.startswith(
        "Daily mood averaged 4 points lower in the past 7 days"
    )


def test_it_flags_disengagement_no_login_missed_checkins_and_no_reply(cast):
    from tether.accounts.models import User

    Episode.objects.update(admitted_on=(NOW - dt.timedelta(days=30)).date())
    User.objects.filter(kind="patient").update(last_login=NOW - dt.timedelta(hours=1))
    User.objects.filter(pk=cast.patient.pk).update(last_login=NOW - dt.timedelta(days=9))
    ProgramInstrument.objects.create(
        organization=cast.organization, program=cast.iop, instrument_code="daily", schedule="daily"
    )
    add_response(cast.other_patient.patient, "daily", NOW - dt.timedelta(hours=5), items={})
    # The team wrote 15 days ago and again 2 days ago; the patient last wrote 16 days
    # ago. The oldest unanswered message counts (default 14 days): the newer one does
    # not reset it.
    thread = Thread.objects.create(
        organization=cast.organization,
        patient=cast.other_patient.patient,
        last_team_message_at=NOW - dt.timedelta(days=2),
        last_patient_message_at=NOW - dt.timedelta(days=16),
    )
    for days in (16, 15, 2):
        Message.objects.create(
            organization=cast.organization,
            thread=thread,
            author_kind="patient" if days == 16 else "staff",
            created_at=NOW - dt.timedelta(days=days),
            record_category="shared",
        )
    flags_sweep(now=NOW)
    got = set(Flag.objects.values_list("patient__user__username", "reason"))
    assert (cast.patient.username, "no_login") in got
    assert (cast.patient.username, "missed_checkins") in got
    assert (cast.other_patient.username, "no_reply") in got
    assert (cast.other_patient.username, "missed_checkins") not in got
    assert (cast.other_patient.username, "no_login") not in got


def test_it_evaluates_with_a_constant_number_of_queries(quiet):
    flags_sweep(now=NOW)  # defaults created
    with CaptureQueriesContext(connection) as small:
        flags_sweep(now=NOW)
    for n in range(10):
        make_patient(quiet.organization, quiet.iop, f"extra{n}", first_name="E", last_name=str(n))
    from tether.accounts.models import User

    User.objects.filter(kind="patient").update(last_login=NOW)
    Episode.objects.update(admitted_on=(NOW - dt.timedelta(days=3)).date())
    with CaptureQueriesContext(connection) as large:
        flags_sweep(now=NOW)
    assert len(small) == len(large)
    print(f"\nflag sweep, nothing new to raise: {len(large)} queries")


def test_it_refuses_a_second_acknowledgment_and_a_user_without_the_right(quiet):
    _deteriorate(quiet.patient.patient)
    flags_sweep(now=NOW)
    flag = Flag.objects.get()
    with pytest.raises(PermissionDenied):
        flag_acknowledge(actor=quiet.front_desk, flag=flag)
    flag_acknowledge(actor=quiet.clinical_lead, flag=flag, now=NOW)
    with pytest.raises(ValidationError, match="already acknowledged"):
        flag_acknowledge(actor=quiet.assigned_clinician, flag=flag)
    flag.refresh_from_db()
    assert flag.acknowledged_by == quiet.clinical_lead
    with pytest.raises(ValidationError, match="why no action"):
        flag_resolve(actor=quiet.clinical_lead, flag=flag, action="no_action", note=" ")
    flag.refresh_from_db()
    assert flag.status == "open"


def test_it_runs_the_sweep_every_quarter_hour_through_the_worker(quiet):
    enqueued: list[object] = []
    last_run: dict[str, dt.datetime] = {}
    for minutes in (0, 5, 15, 29, 30):
        enqueue_due(last_run, now=NOW + dt.timedelta(minutes=minutes), enqueue=enqueued.append)
    assert enqueued.count(sweep_flags) == 3
    # The task sweeps at the real time, so the story is told relative to it.
    from tether.accounts.models import User

    now = timezone.now()
    User.objects.filter(kind="patient").update(last_login=now - dt.timedelta(hours=2))
    Episode.objects.update(admitted_on=(now - dt.timedelta(days=3)).date())
    patient = quiet.patient.patient
    add_response(patient, "phq9", now - dt.timedelta(days=20), total=8)
    add_response(patient, "phq9", now - dt.timedelta(days=2), total=16)
    assert sweep_flags.call() == 1


def test_no_reply_is_not_raised_once_the_patient_has_answered(cast):
    from tether.accounts.models import User

    Episode.objects.update(admitted_on=(NOW - dt.timedelta(days=30)).date())
    User.objects.filter(kind="patient").update(last_login=NOW - dt.timedelta(hours=1))
    thread = Thread.objects.create(
        organization=cast.organization,
        patient=cast.other_patient.patient,
        last_team_message_at=NOW - dt.timedelta(days=20),
        last_patient_message_at=NOW - dt.timedelta(days=1),
    )
    for days, kind in ((20, "staff"), (1, "patient")):
        Message.objects.create(
            organization=cast.organization,
            thread=thread,
            author_kind=kind,
            created_at=NOW - dt.timedelta(days=days),
            record_category="shared",
        )
    flags_sweep(now=NOW)
    assert not Flag.objects.filter(reason="no_reply").exists()
