"""The rules the sweep evaluates: what each one means, its default threshold, and the
set-based query that finds the patients it fires for.

Every evaluator returns a queryset of active episodes of one program annotated with
``value`` (the number behind the flag's sentence), evaluated in one SQL statement
whatever the number of patients. Defaults are tuned on the simulated cohort
(scripts/simulate_cohort.py, docs/FLAGS.md); programs change them per rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import (
    Avg,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Round
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tether.checkins.models import Answer, ProgramInstrument, Response
from tether.crisis.selectors import patient_asked_events
from tether.flags.models import FlagRule, Kind, Severity
from tether.homework.models import Assignment
from tether.messaging.models import Message, Thread
from tether.patients.models import Episode
from tether.scheduling.models import Attendance

Evaluator = Callable[[FlagRule, dt.datetime], "QuerySet[Episode]"]

# Rules whose flag itself says something about substance use (42 CFR Part 2): their
# flags are Part 2 records in any program (``Flag.record_category``).
PART2_RULES = frozenset({"craving_rise"})


@dataclass(frozen=True)
class RuleSpec:
    code: str
    kind: Kind
    severity: Severity
    threshold: int
    threshold_min: int
    threshold_max: int
    unit: Promise
    window_days: int
    label: Promise
    sentence: Promise  # one sentence, %(value)s is the measured number
    evidence: str  # the section of the pre-session review that shows the evidence


def _episodes(rule: FlagRule) -> QuerySet[Episode]:
    return Episode.objects.filter(program_id=rule.program_id, status=Episode.Status.ACTIVE)


def _count(qs: QuerySet, patient_field: str) -> Coalesce:  # type: ignore[type-arg]
    counted = (
        qs.filter(**{patient_field: OuterRef("patient_id")})
        .order_by()
        .values(patient_field)
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _crisis_pathway(rule: FlagRule, now: dt.datetime) -> QuerySet[Episode]:
    # Only the patient's own calls for help: an item-9 answer or crisis language raise
    # their own flag, and one event must raise one flag.
    events = patient_asked_events().filter(
        occurred_at__gte=now - dt.timedelta(days=rule.window_days),
        occurred_at__lte=now,
    )
    return (
        _episodes(rule)
        .annotate(value=_count(events, "request__patient_id"))
        .filter(value__gte=rule.threshold)
    )


def _crisis_language(rule: FlagRule, now: dt.datetime) -> QuerySet[Episode]:
    messages = Message.objects.filter(
        trigger=Message.Trigger.PHRASE,
        author_kind=Message.AuthorKind.PATIENT,
        created_at__gte=now - dt.timedelta(days=rule.window_days),
        created_at__lte=now,
    )
    return (
        _episodes(rule)
        .annotate(value=_count(messages, "thread__patient_id"))
        .filter(value__gte=rule.threshold)
    )


def _measure_deterioration(code: str) -> Evaluator:
    def evaluate(rule: FlagRule, now: dt.datetime) -> QuerySet[Episode]:
        scored = Response.objects.filter(
            episode_id=OuterRef("pk"),
            instrument__code=code,
            status=Response.Status.COMPLETE,
            total__isnull=False,
            submitted_at__lte=now,
        )
        baseline = scored.order_by("submitted_at", "pk").values("total")[:1]
        latest = scored.filter(submitted_at__gte=now - dt.timedelta(days=rule.window_days))
        latest_total = latest.order_by("-submitted_at", "-pk").values("total")[:1]
        return (
            _episodes(rule)
            .annotate(
                value=Subquery(latest_total, output_field=IntegerField())
                - Subquery(baseline, output_field=IntegerField())
            )
            .filter(value__gte=rule.threshold)
        )

    return evaluate


def _daily_item_change(item: str, *, falling: bool) -> Evaluator:
    """Mean of a daily item over the last window against the window before it."""

    def evaluate(rule: FlagRule, now: dt.datetime) -> QuerySet[Episode]:
        window = dt.timedelta(days=rule.window_days)
        answers = Answer.objects.filter(
            response__episode_id=OuterRef("pk"),
            response__status=Response.Status.COMPLETE,
            response__instrument__code="daily",
            item_code=item,
            value__isnull=False,
        )

        def mean(start: dt.datetime, end: dt.datetime) -> Subquery:
            part = (
                answers.filter(response__submitted_at__gte=start, response__submitted_at__lt=end)
                .order_by()
                .values("response__episode_id")
                .annotate(m=Avg("value"))
                .values("m")[:1]
            )
            return Subquery(part)

        recent = mean(now - window, now)
        before = mean(now - 2 * window, now - window)
        change = (before - recent) if falling else (recent - before)
        return (
            _episodes(rule)
            .annotate(change=change)
            .filter(change__gte=rule.threshold)
            .annotate(value=Round(F("change")))
        )

    return evaluate


def _no_login(rule: FlagRule, now: dt.datetime) -> QuerySet[Episode]:
    since = now - dt.timedelta(days=rule.threshold)
    return (
        _episodes(rule)
        .filter(admitted_on__lte=since.date())
        .filter(
            Q(patient__user__last_login__lt=since)
            | Q(patient__user__last_login__isnull=True, patient__user__isnull=False)
        )
        .annotate(value=Value(rule.threshold))
    )


def _missed_checkins(rule: FlagRule, now: dt.datetime) -> QuerySet[Episode]:
    since = now - dt.timedelta(days=rule.threshold)
    daily_on = ProgramInstrument.objects.filter(
        program_id=rule.program_id, instrument_code="daily", schedule="daily", is_active=True
    )
    recent = Response.objects.filter(
        episode_id=OuterRef("pk"),
        instrument__code="daily",
        status=Response.Status.COMPLETE,
        submitted_at__gte=since,
    )
    return (
        _episodes(rule)
        .filter(Exists(daily_on), admitted_on__lte=since.date())
        .exclude(Exists(recent))
        .annotate(value=Value(rule.threshold))
    )


def _missed_sessions(rule: FlagRule, now: dt.datetime) -> QuerySet[Episode]:
    absences = Attendance.objects.filter(
        status=Attendance.Status.ABSENT,
        appointment__starts_at__gte=now - dt.timedelta(days=rule.window_days),
        appointment__starts_at__lte=now,
    )
    return (
        _episodes(rule)
        .annotate(value=_count(absences, "patient_id"))
        .filter(value__gte=rule.threshold)
    )


def _homework_late(rule: FlagRule, now: dt.datetime) -> QuerySet[Episode]:
    today = now.date()
    late = Assignment.objects.filter(
        due_on__gte=today - dt.timedelta(days=rule.window_days), due_on__lt=today
    ).filter(Q(completed_at__isnull=True) | Q(completed_at__date__gt=F("due_on")))
    return (
        _episodes(rule).annotate(value=_count(late, "patient_id")).filter(value__gte=rule.threshold)
    )


def _no_reply(rule: FlagRule, now: dt.datetime) -> QuerySet[Episode]:
    """The care team's oldest message since the patient last wrote is N days old.

    Counted from the oldest unanswered message, not the newest: a team that keeps
    writing weekly to a patient who never answers must not reset the clock."""
    unanswered = Message.objects.filter(
        thread__patient_id=OuterRef("patient_id"),
        thread__kind=Thread.Kind.PATIENT,  # the patient's own thread, not their family's
        author_kind=Message.AuthorKind.STAFF,
        created_at__lt=now - dt.timedelta(days=rule.threshold),
    ).filter(
        Q(thread__last_patient_message_at__isnull=True)
        | Q(thread__last_patient_message_at__lt=F("created_at"))
    )
    return _episodes(rule).filter(Exists(unanswered)).annotate(value=Value(rule.threshold))


_days = _("days")
_points = _("points")
_times = _("times")

SPECS: tuple[tuple[RuleSpec, Evaluator], ...] = (
    (
        RuleSpec(
            "crisis_pathway",
            Kind.SAFETY,
            Severity.HIGH,
            1,
            1,
            10,
            _times,
            7,
            _("Crisis pathway used"),
            _("Asked for urgent help %(value)s time(s) in the past %(days)s days."),
            "crisis",
        ),
        _crisis_pathway,
    ),
    (
        RuleSpec(
            "crisis_language",
            Kind.SAFETY,
            Severity.HIGH,
            1,
            1,
            10,
            _times,
            7,
            _("Crisis language in a message"),
            _("Wrote %(value)s message(s) with crisis language in the past %(days)s days."),
            "messages",
        ),
        _crisis_language,
    ),
    (
        RuleSpec(
            "phq9_deterioration",
            Kind.DETERIORATION,
            Severity.MEDIUM,
            6,
            3,
            27,
            _points,
            28,
            _("PHQ-9 reliable deterioration"),
            _("PHQ-9 is %(value)s points above the first score of this episode."),
            "scores",
        ),
        _measure_deterioration("phq9"),
    ),
    (
        RuleSpec(
            "gad7_deterioration",
            Kind.DETERIORATION,
            Severity.MEDIUM,
            4,
            2,
            21,
            _points,
            28,
            _("GAD-7 reliable deterioration"),
            _("GAD-7 is %(value)s points above the first score of this episode."),
            "scores",
        ),
        _measure_deterioration("gad7"),
    ),
    (
        RuleSpec(
            "mood_drop",
            Kind.DETERIORATION,
            Severity.MEDIUM,
            2,
            1,
            10,
            _points,
            7,
            _("Sustained drop in daily mood"),
            _("Daily mood averaged %(value)s points lower in the past %(days)s days than before."),
            "scores",
        ),
        _daily_item_change("mood", falling=True),
    ),
    (
        RuleSpec(
            "craving_rise",
            Kind.DETERIORATION,
            Severity.MEDIUM,
            2,
            1,
            10,
            _points,
            7,
            _("Rising craving"),
            _(
                "Daily craving averaged %(value)s points higher in the past %(days)s days than before."
            ),
            "scores",
        ),
        _daily_item_change("craving", falling=False),
    ),
    (
        RuleSpec(
            "no_login",
            Kind.DISENGAGEMENT,
            Severity.LOW,
            7,
            2,
            60,
            _days,
            7,
            _("Not signing in"),
            _("Has not signed in to the portal for %(value)s days or more."),
            "attendance",
        ),
        _no_login,
    ),
    (
        RuleSpec(
            "missed_checkins",
            Kind.DISENGAGEMENT,
            Severity.LOW,
            4,
            2,
            30,
            _days,
            3,
            _("Missed check-ins"),
            _("No daily check-in for %(value)s days in a row."),
            "scores",
        ),
        _missed_checkins,
    ),
    (
        RuleSpec(
            "missed_sessions",
            Kind.DISENGAGEMENT,
            Severity.MEDIUM,
            2,
            1,
            20,
            _times,
            7,
            _("Missed sessions"),
            _("Missed %(value)s sessions without notice in the past %(days)s days."),
            "attendance",
        ),
        _missed_sessions,
    ),
    (
        RuleSpec(
            "homework_late",
            Kind.DISENGAGEMENT,
            Severity.LOW,
            4,
            1,
            20,
            _times,
            28,
            _("Homework repeatedly late"),
            _("%(value)s homework assignments were late or not done in the past %(days)s days."),
            "homework",
        ),
        _homework_late,
    ),
    (
        RuleSpec(
            "no_reply",
            Kind.DISENGAGEMENT,
            Severity.LOW,
            14,
            1,
            60,
            _days,
            5,
            _("No reply to the care team"),
            _("Has not replied to the care team's message for %(value)s days or more."),
            "messages",
        ),
        _no_reply,
    ),
)

RULES: dict[str, RuleSpec] = {spec.code: spec for spec, _e in SPECS}
EVALUATORS: dict[str, Evaluator] = {spec.code: evaluate for spec, evaluate in SPECS}
