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
    assert flag.why == "PHQ-9 is 8 points above the baseline of this episode."
    assert flag.evidence == "scores"
    assert flags_sweep(now=NOW + dt.timedelta(minutes=15)) == {}
    assert AuditEvent.objects.filter(object_type="flags.flag", action="create").count() == 1


def test_it_raises_again_on_a_newer_score_that_is_still_up_not_on_the_same_one(quiet):
    """Resolved, the same score does not raise it again (the clinician has seen it);
    the next weekly score, still 6 points up, does."""
    _deteriorate(quiet.patient.patient)
    flags_sweep(now=NOW)
    flag = Flag.objects.get()
    flag_resolve(actor=quiet.clinical_lead, flag=flag, action="called", now=NOW)
    assert flags_sweep(now=NOW + dt.timedelta(days=3)) == {}
    # Three scores: the baseline is now the mean of the first two (8 and 16), 12.
    add_response(quiet.patient.patient, "phq9", NOW + dt.timedelta(days=5), total=20)
    assert flags_sweep(now=NOW + dt.timedelta(days=5, hours=1)) == {"phq9_deterioration": 1}
    assert Flag.objects.filter(status="open").count() == 1


def test_one_call_for_help_raises_one_crisis_flag_even_after_it_is_resolved(quiet):
    """The crisis pathway used once: one flag; resolved, the same call (still within the
    rule's 7 days) does not raise it again; a new call does."""
    from tether.crisis.models import UrgentContactRequest
    from tether.crisis.services import urgent_contact_raise

    patient = quiet.patient.patient
    source = UrgentContactRequest.Source.PATIENT_BUTTON
    urgent_contact_raise(patient=patient, source=source, actor=quiet.patient, now=NOW)
    assert flags_sweep(now=NOW + dt.timedelta(minutes=1)) == {"crisis_pathway": 1}
    flag = Flag.objects.get(reason="crisis_pathway")
    flag_resolve(actor=quiet.clinical_lead, flag=flag, action="called", now=NOW)
    assert flags_sweep(now=NOW + dt.timedelta(days=3)) == {}
    later = NOW + dt.timedelta(days=4)
    urgent_contact_raise(patient=patient, source=source, actor=quiet.patient, now=later)
    assert flags_sweep(now=later + dt.timedelta(minutes=1)) == {"crisis_pathway": 1}


def test_it_flags_a_drop_in_mood_and_rising_craving_against_the_patients_own_usual(quiet):
    """Three weeks at the patient's usual level, then three bad days: flagged (the
    default window is 4 days); the other patient, whose usual is as low as that, is not."""
    for patient, usual in ((quiet.patient.patient, 7), (quiet.other_patient.patient, 3)):
        for day in range(24, 0, -1):
            bad = day <= 3
            mood = 3 if bad else usual
            craving = 6 if bad else 8 - usual
            when = NOW - dt.timedelta(days=day, hours=-2)
            add_response(patient, "daily", when, items={"mood": mood, "craving": craving})
    raised = flags_sweep(now=NOW)
    assert raised == {"mood_drop": 1, "craving_rise": 1}
    flag = Flag.objects.get(reason="mood_drop")
    assert flag.patient == quiet.patient.patient
    assert flag.why.startswith("Daily mood averaged 3 points lower in the past 4 days")
    assert "than in the three weeks before" in flag.why
    # Hysteresis: resolved, the condition persisting, it stays quiet for 14 days.
    flag_resolve(actor=quiet.clinical_lead, flag=flag, action="called", now=NOW)
    assert "mood_drop" not in flags_sweep(now=NOW + dt.timedelta(hours=1))


def test_it_flags_disengagement_no_login_missed_checkins_and_no_reply(cast):
    from tether.accounts.models import User

    Episode.objects.update(admitted_on=(NOW - dt.timedelta(days=30)).date())
    User.objects.filter(kind="patient").update(last_login=NOW - dt.timedelta(hours=1))
    User.objects.filter(pk=cast.patient.pk).update(last_login=NOW - dt.timedelta(days=9))
    ProgramInstrument.objects.create(
        organization=cast.organization, program=cast.iop, instrument_code="daily", schedule="daily"
    )
    # Off by default since the combined disengagement rule; a program may turn them on.
    rules_ensure_defaults()
    FlagRule.objects.filter(code__in=["no_login", "missed_checkins", "no_reply"]).update(
        enabled=True
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


def test_between_weekly_measures_a_rising_trend_and_a_missed_measure_after_a_rise(quiet):
    """Gradual: four weekly PHQ-9s rising about a point a week (never 6 above the first:
    reliable deterioration says nothing yet). Another patient's PHQ-9 rose 5 points and
    then the weekly measure did not come: flagged without waiting for the next score."""
    for weeks_ago, total in ((4, 10), (3, 11), (1, 13), (0, 15)):
        add_response(
            quiet.patient.patient, "phq9", NOW - dt.timedelta(weeks=weeks_ago), total=total
        )
    for days_ago, total in ((30, 8), (23, 9), (16, 13)):
        add_response(
            quiet.other_patient.patient, "phq9", NOW - dt.timedelta(days=days_ago), total=total
        )
    raised = flags_sweep(now=NOW)
    assert raised == {"phq9_rise": 1, "measure_missed_after_rise": 1}
    rise = Flag.objects.get(reason="phq9_rise")
    assert rise.patient == quiet.patient.patient
    assert (
        rise.why
        == "The two latest PHQ-9 scores average 4 points above the first two of this episode."
    )
    missed = Flag.objects.get(reason="measure_missed_after_rise")
    assert missed.patient == quiet.other_patient.patient
    assert missed.why == (
        "The last PHQ-9 was 5 points above the first, and none came in the past 10 days."
    )


def test_rules_count_the_episodes_own_scores(quiet):
    """The same rising story in an episode whose id is not its patient's id: the count
    of scores (four at least for a rise) is the episode's own. It once matched episode
    ids to patient ids, right only where the two happened to coincide."""
    old = quiet.other_patient.patient.episodes.get(status="active")
    earlier = Episode.objects.get(pk=old.pk)
    earlier.pk = None
    earlier.status = Episode.Status.DISCHARGED
    earlier.admitted_on = (NOW - dt.timedelta(days=200)).date()
    earlier.discharged_on = (NOW - dt.timedelta(days=150)).date()
    earlier.save()  # moves the episode ids one ahead of the patient ids
    user = make_patient(
        quiet.organization, old.program, "rising", first_name="Rae", last_name="Rising"
    )
    patient = user.patient
    episode = patient.episodes.get(status="active")
    assert episode.pk != patient.pk
    User = type(user)
    User.objects.filter(pk=user.pk).update(last_login=NOW - dt.timedelta(hours=2))
    Episode.objects.filter(pk=episode.pk).update(admitted_on=(NOW - dt.timedelta(days=40)).date())
    for weeks_ago, total in ((4, 10), (3, 11), (1, 13), (0, 15)):
        add_response(patient, "phq9", NOW - dt.timedelta(weeks=weeks_ago), total=total)
    flags_sweep(now=NOW)
    rise = Flag.objects.get(reason="phq9_rise", patient=patient)
    assert rise.why == (
        "The two latest PHQ-9 scores average 4 points above the first two of this episode."
    )
