"""The rules the sweep evaluates: what each one means, its default threshold, and the
set-based query that finds the patients it fires for.

Every evaluator returns a queryset of active episodes of one program annotated with
``value`` (the number behind the flag's sentence), evaluated in one SQL statement
whatever the number of patients. Defaults are tuned on the simulated cohort
(scripts/simulate_cohort.py, docs/FLAGS.md); programs change them per rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Round
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tether.checkins.models import Answer, Instrument, ProgramInstrument, Response
from tether.crisis.selectors import patient_asked_events
from tether.flags.models import Flag, FlagRule, Kind, Severity
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
    # On in a program's default rules. The five single-signal disengagement rules are
    # off by default since the combined ``disengagement`` rule (docs/FLAGS.md).
    enabled: bool = True
    # Hysteresis: after raising a flag, the rule stays quiet for this patient for this
    # many days even if the flag is resolved and the condition persists (0: re-raise
    # at the next sweep, the older behaviour).
    rearm_days: int = 0
    # The flag's own sentence from its stored value, when the value is not a plain
    # number (the combined disengagement rule stores which signals it saw).
    explain: Callable[[int], str] | None = None


def _episodes(rule: FlagRule) -> QuerySet[Episode]:
    return Episode.objects.filter(program_id=rule.program_id, status=Episode.Status.ACTIVE)


def _instrument_ids(code: str) -> list[int]:
    """The ids of every version of an instrument (one small query per rule).

    A rule filters responses on ``instrument_id IN (...)`` rather than joining the
    instrument by its code: with the ids known, PostgreSQL looks a patient's or an
    episode's responses up by the composite indexes (episode or patient, instrument,
    submitted_at) and reads only the rule's time window instead of the patient's
    whole history (docs/BENCHMARKS.md, "Flag sweep"). ``[0]`` (no such row) when the
    instrument is not installed, so that the rule finds nothing, as the join did."""
    return list(Instrument.objects.filter(code=code).values_list("pk", flat=True)) or [0]


def _count(qs: QuerySet, patient_field: str) -> Coalesce:  # type: ignore[type-arg]
    """How many rows of ``qs`` belong to the outer episode's patient (``patient_field``
    a path to a patient id) or, for ``"episode_id"``, to the outer episode itself."""
    outer = "pk" if patient_field == "episode_id" else "patient_id"
    counted = (
        qs.filter(**{patient_field: OuterRef(outer)})
        .order_by()
        .values(patient_field)
        # count(*), not count(id): the same number, and the count can be read from an
        # index alone (the partial index on complete responses has no id column).
        .annotate(n=Count("*"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _flagged_since(rule: FlagRule, patient_field: str, at_field: str) -> Exists:
    """A flag of this rule for the row's patient raised at or after the row's time:
    what the row says was already flagged (a resolved flag is not raised again for the
    same event or the same score)."""
    return Exists(
        Flag.objects.filter(
            rule_id=rule.pk,
            patient_id=OuterRef(patient_field),
            raised_at__gte=OuterRef(at_field),
        )
    )


def _crisis_pathway(rule: FlagRule, now: dt.datetime) -> QuerySet[Episode]:
    # Only the patient's own calls for help: an item-9 answer or crisis language raise
    # their own flag, and one event must raise one flag: only the events after the
    # rule's last flag for the patient count.
    events = patient_asked_events().filter(
        occurred_at__gte=now - dt.timedelta(days=rule.window_days),
        occurred_at__lte=now,
    )
    events = events.exclude(_flagged_since(rule, "request__patient_id", "occurred_at"))
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
    ).exclude(_flagged_since(rule, "thread__patient_id", "created_at"))
    return (
        _episodes(rule)
        .annotate(value=_count(messages, "thread__patient_id"))
        .filter(value__gte=rule.threshold)
    )


# The baseline of a weekly measure's deterioration: the mean of the episode's first
# BASELINE_SCORES scores once there are more than that many (one intake score carries
# its whole measurement error into every comparison); the first score alone before.
BASELINE_SCORES = 2


def _measure_deterioration(code: str) -> Evaluator:
    def evaluate(rule: FlagRule, now: dt.datetime) -> QuerySet[Episode]:
        scored = Response.objects.filter(
            episode_id=OuterRef("pk"),
            instrument_id__in=_instrument_ids(code),
            status=Response.Status.COMPLETE,
            total__isnull=False,
            submitted_at__lte=now,
        )
        first = scored.order_by("submitted_at", "pk").values("total")
        latest = scored.filter(
            submitted_at__gte=now - dt.timedelta(days=rule.window_days)
        ).order_by("-submitted_at", "-pk")
        latest_total = Subquery(latest.values("total")[:1], output_field=FloatField())
        baseline: Any = Subquery(first[:1], output_field=FloatField())
        episodes: QuerySet[Episode, Any] = _episodes(rule)
        if BASELINE_SCORES > 1:
            n = BASELINE_SCORES
            counted = _count(
                Response.objects.filter(
                    instrument_id__in=_instrument_ids(code),
                    status=Response.Status.COMPLETE,
                    total__isnull=False,
                    submitted_at__lte=now,
                ),
                "episode_id",
            )
            means = sum(
                (Subquery(first[k : k + 1], output_field=FloatField()) for k in range(n)),
                Value(0.0),
            ) / Value(float(n))
            baseline = Case(
                When(scores__gt=n, then=means), default=baseline, output_field=FloatField()
            )
            episodes = episodes.annotate(scores=counted)
        return (
            episodes.annotate(
                change=latest_total - baseline,
                latest_at=Subquery(latest.values("submitted_at")[:1]),
            )
            .filter(change__gte=rule.threshold)
            # Raised again only on a newer score than the one already flagged.
            .exclude(_flagged_since(rule, "patient_id", "latest_at"))
            .annotate(value=Round(F("change")))
        )

    return evaluate


# The patient's own usual level of a daily item: the mean over these days before the
# recent window (at least BASELINE_MIN_ANSWERS answers), and at least RECENT_MIN_ANSWERS
# answers in the recent window (a minimum duration: one bad day is not a trend).
BASELINE_DAYS = 21
BASELINE_MIN_ANSWERS = 5
RECENT_MIN_ANSWERS = 2


def _daily_item_change(item: str, *, falling: bool) -> Evaluator:
    """Mean of a daily item over the last window against the patient's own usual level
    (the mean over the BASELINE_DAYS before it)."""

    def evaluate(rule: FlagRule, now: dt.datetime) -> QuerySet[Episode]:
        window = dt.timedelta(days=rule.window_days)
        baseline = dt.timedelta(days=BASELINE_DAYS)
        answers = Answer.objects.filter(
            response__episode_id=OuterRef("pk"),
            response__status=Response.Status.COMPLETE,
            response__instrument_id__in=_instrument_ids("daily"),
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

        def count(start: dt.datetime, end: dt.datetime) -> Coalesce:
            part = (
                answers.filter(response__submitted_at__gte=start, response__submitted_at__lt=end)
                .order_by()
                .values("response__episode_id")
                .annotate(n=Count("pk"))
                .values("n")[:1]
            )
            return Coalesce(Subquery(part, output_field=IntegerField()), Value(0))

        recent = mean(now - window, now)
        before = mean(now - window - baseline, now - window)
        change = (before - recent) if falling else (recent - before)
        return (
            _episodes(rule)
            .annotate(
                recent_n=count(now - window, now),
                before_n=count(now - window - baseline, now - window),
            )
            .filter(recent_n__gte=RECENT_MIN_ANSWERS, before_n__gte=BASELINE_MIN_ANSWERS)
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
        instrument_id__in=_instrument_ids("daily"),
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


def _phq9_rise_parts(rule: FlagRule, now: dt.datetime) -> tuple[Exists, Any]:
    """The rule's "a PHQ-9 in the window" and its rise (two latest minus first two)."""
    scored = Response.objects.filter(
        episode_id=OuterRef("pk"),
        instrument_id__in=_instrument_ids("phq9"),
        status=Response.Status.COMPLETE,
        total__isnull=False,
        submitted_at__lte=now,
    )
    first = scored.order_by("submitted_at", "pk").values("total")
    last = scored.order_by("-submitted_at", "-pk").values("total")
    recent = scored.filter(submitted_at__gte=now - dt.timedelta(days=rule.window_days))

    def total(qs: QuerySet[Response, Any]) -> Subquery:
        return Subquery(qs, output_field=IntegerField())

    rise2 = total(last[:1]) + total(last[1:2]) - total(first[:1]) - total(first[1:2])
    return Exists(recent), rise2


def _phq9_rise(rule: FlagRule, now: dt.datetime) -> QuerySet[Episode]:
    """A trend before reliable deterioration: the mean of the two latest PHQ-9s (the
    latest in the window) is N points above the mean of the episode's first two.
    Averaging two scores halves the noise of one (a weekly measure moves ±2)."""
    recent, rise2 = _phq9_rise_parts(rule, now)
    return (
        _episodes(rule)
        .filter(recent)
        .annotate(
            n=_count(
                Response.objects.filter(
                    instrument_id__in=_instrument_ids("phq9"),
                    status=Response.Status.COMPLETE,
                    total__isnull=False,
                    submitted_at__lte=now,
                ),
                "episode_id",
            ),
            rise2=rise2,
        )
        # Four scores at least, so that the two latest and the first two differ.
        .filter(n__gte=4, rise2__gte=2 * rule.threshold)
        .annotate(value=Round(Cast(F("rise2"), FloatField()) / 2))
    )


def _measure_missed_after_rise(rule: FlagRule, now: dt.datetime) -> QuerySet[Episode]:
    """The last PHQ-9 was N points or more above the episode's first, and no PHQ-9 came
    in the window since (a weekly measure missed after a rise)."""
    scored = Response.objects.filter(
        episode_id=OuterRef("pk"),
        instrument_id__in=_instrument_ids("phq9"),
        status=Response.Status.COMPLETE,
        total__isnull=False,
        submitted_at__lte=now,
    )
    baseline = scored.order_by("submitted_at", "pk").values("total")[:1]
    latest = scored.order_by("-submitted_at", "-pk").values("total")[:1]
    return (
        _episodes(rule)
        .exclude(Exists(scored.filter(submitted_at__gte=now - dt.timedelta(days=rule.window_days))))
        .annotate(
            value=Subquery(latest, output_field=IntegerField())
            - Subquery(baseline, output_field=IntegerField())
        )
        .filter(value__gte=rule.threshold)
    )


# The combined disengagement rule: weak signals, each measured against the patient's
# own rhythm where there is one, added up into one score. Bits of the stored value
# say which signals were seen (``explain_disengagement``).
USUAL_DAYS = 28  # the patient's usual check-in rate: the 28 days before the window
SILENT_DAYS = 4  # minimum duration: nothing for 4 days (a weekend off is not missing)
SIGNALS: tuple[tuple[int, int, Promise], ...] = (
    # (bit, points, what the clinician reads)
    (1, 2, _("far fewer check-ins than their own usual")),
    (2, 1, _("no sign-in for 7 days")),
    (4, 1, _("two or more sessions missed")),
    (8, 1, _("two or more homework assignments not done")),
    (16, 1, _("no reply to the care team for 10 days")),
)
FEWER_THAN_USUAL = 0.4  # check-ins in the window below 40 % of the usual rate
# The check-in shortfall against the patient's own rate is required, not one signal
# among others: a week away with no contact at all makes every other signal fire at
# once (no sign-in, sessions, homework, reply), and they are not independent.
DISENGAGEMENT_NEEDS_FEWER = True


def explain_disengagement(value: int) -> str:
    seen = [str(text) for bit, _points, text in SIGNALS if value & bit]
    return str(_("Less engaged than usual: %(signals)s.")) % {"signals": "; ".join(seen)}


def _disengagement(rule: FlagRule, now: dt.datetime) -> QuerySet[Episode]:
    window = dt.timedelta(days=rule.window_days)
    daily = Response.objects.filter(
        instrument_id__in=_instrument_ids("daily"),
        status=Response.Status.COMPLETE,
        submitted_at__lte=now,
    )
    recent_n = _count(daily.filter(submitted_at__gte=now - window), "patient_id")
    usual_n = _count(
        daily.filter(
            submitted_at__gte=now - window - dt.timedelta(days=USUAL_DAYS),
            submitted_at__lt=now - window,
        ),
        "patient_id",
    )
    silent = ~Exists(
        daily.filter(
            patient_id=OuterRef("patient_id"),
            submitted_at__gte=now - dt.timedelta(days=SILENT_DAYS),
        )
    )
    absences = _count(
        Attendance.objects.filter(
            status=Attendance.Status.ABSENT,
            appointment__starts_at__gte=now - window,
            appointment__starts_at__lte=now,
        ),
        "patient_id",
    )
    today = now.date()
    undone = _count(
        Assignment.objects.filter(
            due_on__gte=today - window - dt.timedelta(days=7),
            due_on__lt=today,
            completed_at__isnull=True,
        ),
        "patient_id",
    )
    unanswered = Exists(
        Message.objects.filter(
            thread__patient_id=OuterRef("patient_id"),
            thread__kind=Thread.Kind.PATIENT,
            author_kind=Message.AuthorKind.STAFF,
            created_at__lt=now - dt.timedelta(days=10),
        ).filter(
            Q(thread__last_patient_message_at__isnull=True)
            | Q(thread__last_patient_message_at__lt=F("created_at"))
        )
    )
    no_login = Q(patient__user__last_login__lt=now - dt.timedelta(days=7)) | Q(
        patient__user__last_login__isnull=True, patient__user__isnull=False
    )
    # The usual rate: check-ins per day in the USUAL_DAYS before the window, counting
    # only the days since admission (one WHEN per day: no date arithmetic in SQL).
    usual_end = (now - window).date()
    usual_days = Case(
        *(
            When(admitted_on=usual_end - dt.timedelta(days=k), then=Value(float(k)))
            for k in range(1, USUAL_DAYS)
        ),
        default=Value(float(USUAL_DAYS)),
        output_field=FloatField(),
    )
    fewer = Q(usual_n__gte=6) & Q(
        recent_n__lt=Cast(F("usual_n"), FloatField())
        * (rule.window_days * FEWER_THAN_USUAL)
        / F("usual_days")
    )

    def bit(condition: Q, value: int) -> Case:
        return Case(When(condition, then=Value(value)), default=Value(0))

    points = {bit_: weight for bit_, weight, _text in SIGNALS}
    signals = {
        1: fewer,
        2: no_login,
        4: Q(absences__gte=2),
        8: Q(undone__gte=2),
        16: Q(unanswered=True),
    }
    gate = Q(score__gte=rule.threshold)
    if DISENGAGEMENT_NEEDS_FEWER:
        gate &= fewer
    return (
        _episodes(rule)
        .filter(admitted_on__lte=(now - window).date())
        .filter(silent)
        .annotate(
            recent_n=recent_n,
            usual_n=usual_n,
            usual_days=usual_days,
            absences=absences,
            undone=undone,
            unanswered=unanswered,
        )
        .annotate(
            score=sum((bit(q, points[b]) for b, q in signals.items()), Value(0)),
            value=sum((bit(q, b) for b, q in signals.items()), Value(0)),
        )
        .filter(gate)
    )


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
            _("PHQ-9 is %(value)s points above the baseline of this episode."),
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
            _("GAD-7 is %(value)s points above the baseline of this episode."),
            "scores",
        ),
        _measure_deterioration("gad7"),
    ),
    (
        RuleSpec(
            "mood_drop",
            Kind.DETERIORATION,
            Severity.MEDIUM,
            3,
            1,
            10,
            _points,
            4,
            _("Drop in daily mood"),
            _(
                "Daily mood averaged %(value)s points lower in the past %(days)s days than "
                "in the three weeks before."
            ),
            "scores",
            rearm_days=14,
        ),
        _daily_item_change("mood", falling=True),
    ),
    (
        RuleSpec(
            "craving_rise",
            Kind.DETERIORATION,
            Severity.MEDIUM,
            3,
            1,
            10,
            _points,
            4,
            _("Rising craving"),
            _(
                "Daily craving averaged %(value)s points higher in the past %(days)s days "
                "than in the three weeks before."
            ),
            "scores",
            rearm_days=14,
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
            enabled=False,
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
            enabled=False,
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
            enabled=False,
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
            enabled=False,
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
            enabled=False,
        ),
        _no_reply,
    ),
    (
        RuleSpec(
            "disengagement",
            Kind.DISENGAGEMENT,
            Severity.MEDIUM,
            3,
            1,
            6,
            _("points"),
            14,
            _("Disengaging"),
            _(
                "Signs of disengagement worth %(value)s points in the past %(days)s days, "
                "against the patient's own usual rhythm."
            ),
            "attendance",
            rearm_days=14,
            explain=explain_disengagement,
        ),
        _disengagement,
    ),
    (
        RuleSpec(
            "phq9_rise",
            Kind.DETERIORATION,
            Severity.MEDIUM,
            3,
            2,
            27,
            _points,
            21,
            _("PHQ-9 rising"),
            _(
                "The two latest PHQ-9 scores average %(value)s points above the first two "
                "of this episode."
            ),
            "scores",
            rearm_days=28,
        ),
        _phq9_rise,
    ),
    (
        RuleSpec(
            "measure_missed_after_rise",
            Kind.DETERIORATION,
            Severity.MEDIUM,
            4,
            1,
            27,
            _points,
            10,
            _("Weekly measure missed after a rise"),
            _(
                "The last PHQ-9 was %(value)s points above the first, and none came in "
                "the past %(days)s days."
            ),
            "scores",
            rearm_days=14,
        ),
        _measure_missed_after_rise,
    ),
)

RULES: dict[str, RuleSpec] = {spec.code: spec for spec, _e in SPECS}
EVALUATORS: dict[str, Evaluator] = {spec.code: evaluate for spec, evaluate in SPECS}


# Candidates: a necessary condition of a rule, cheap to compute for every patient of a
# program in one statement (one index probe or one grouped pass per episode instead of
# the rule's half-dozen correlated subqueries). The rule's own query (EVALUATORS, the
# definition) then runs on the candidates only, so the flags raised are exactly those
# of the rule run on everyone: a patient who is not a candidate cannot satisfy the rule.
Candidates = Callable[[FlagRule, dt.datetime, "QuerySet[Episode]"], "QuerySet[Episode]"]


def _measure_candidates(code: str) -> Candidates:
    """``latest - baseline >= threshold`` needs ``hi - min(first, second) >= threshold``
    with ``hi`` the highest score in the window: the latest is in the window, and the
    baseline (the first score, or the mean of the first two) is at least the lower of
    the first two."""

    def candidates(rule: FlagRule, now: dt.datetime, episodes: QuerySet[Episode]) -> Any:
        scored = Response.objects.filter(
            episode_id=OuterRef("pk"),
            instrument_id__in=_instrument_ids(code),
            status=Response.Status.COMPLETE,
            total__isnull=False,
            submitted_at__lte=now,
        ).order_by()
        hi = (
            scored.filter(submitted_at__gte=now - dt.timedelta(days=rule.window_days))
            .values("episode_id")
            .annotate(hi=Max("total"))
            .values("hi")[:1]
        )
        first = scored.order_by("submitted_at", "pk").values("total")
        return (
            episodes.annotate(
                hi=Subquery(hi, output_field=IntegerField()),
                first=Subquery(first[:1], output_field=IntegerField()),
                second=Subquery(first[1:2], output_field=IntegerField()),
            )
            .filter(hi__isnull=False)
            .filter(
                Q(hi__gte=F("first") + rule.threshold) | Q(hi__gte=F("second") + rule.threshold)
            )
        )

    return candidates


# The daily items that have a rule: one sweep reads their answers in one pass per
# window for every program (``sweep_pass``), not one pass per rule and program: at
# 100,000 patients each pass reads a year of check-ins' pages, so four programs paid
# for four reads (docs/BENCHMARKS.md, "Flag sweep").
DAILY_RULE_ITEMS = ("mood", "craving")
# One pass's rows by (program, item): (episode, recent mean, baseline mean) tuples, kept
# small (a pass at 100,000 patients holds about 150,000 of them for the whole sweep).
DailyRows = dict[tuple[int, str], list[tuple[int, float, float]]]
_daily_passes: ContextVar[dict[tuple[Any, ...], DailyRows] | None] = ContextVar(
    "tether_flags_daily_passes", default=None
)


@contextmanager
def sweep_pass() -> Iterator[None]:
    """While a whole sweep runs: the daily-item rules of every program share one
    grouped pass over the window's answers (the same rows; a check-in stored between two
    rules of one sweep waits for the next sweep or its own patient's evaluation)."""
    token = _daily_passes.set({})
    try:
        yield
    finally:
        _daily_passes.reset(token)


def _daily_item_rows(
    items: tuple[str, ...], rule: FlagRule, now: dt.datetime, episodes: QuerySet[Episode]
) -> DailyRows:
    """Per episode and item: the number and mean of the answers in the recent window
    and in the baseline before it, for episodes with enough of both.

    Counted as ``count(value)`` (``value`` is never null here), not ``count(id)``: the
    sweep's covering indexes (flags migration 0008) then answer the whole pass without
    reading a check-in's or an answer's row."""
    window = dt.timedelta(days=rule.window_days)
    mid = now - window
    recent_q = Q(response__submitted_at__gte=mid)
    before_q = Q(response__submitted_at__lt=mid)
    rows: Any = (
        Answer.objects.filter(
            response__episode_id__in=episodes.values("pk"),
            response__status=Response.Status.COMPLETE,
            response__instrument_id__in=_instrument_ids("daily"),
            response__submitted_at__gte=mid - dt.timedelta(days=BASELINE_DAYS),
            response__submitted_at__lt=now,
            item_code__in=items,
            value__isnull=False,
        )
        .values("response__episode_id", "response__episode__program_id", "item_code")
        .annotate(
            recent_n=Count("value", filter=recent_q),
            before_n=Count("value", filter=before_q),
            recent=Avg("value", filter=recent_q),
            before=Avg("value", filter=before_q),
        )
        .filter(recent_n__gte=RECENT_MIN_ANSWERS, before_n__gte=BASELINE_MIN_ANSWERS)
        .order_by()
        .values_list(
            "response__episode_id", "response__episode__program_id", "item_code", "recent", "before"
        )
    )
    grouped: DailyRows = {}
    for episode_id, program_id, item_code, recent, before in rows:
        grouped.setdefault((program_id, item_code), []).append((episode_id, recent, before))
    return grouped


def _daily_item_candidates(item: str, *, falling: bool) -> Candidates:
    """The daily-item rule itself, computed in one grouped pass over the episodes'
    answers of the last window and the baseline before it (instead of four correlated
    subqueries per episode); the threshold is loosened by a hair so that a float
    rounding (here in Python) never drops a patient the rule keeps."""

    def candidates(rule: FlagRule, now: dt.datetime, episodes: QuerySet[Episode]) -> Any:
        passes = _daily_passes.get()
        if passes is None or item not in DAILY_RULE_ITEMS:
            rows = _daily_item_rows((item,), rule, now, episodes)
        else:
            key = (now, rule.window_days)
            if key not in passes:
                # Every active episode of an active program, grouped by program: this
                # rule reads its own program's rows, the next programs' rules theirs.
                everyone = Episode.objects.filter(
                    status=Episode.Status.ACTIVE, program__is_active=True
                )
                passes[key] = _daily_item_rows(DAILY_RULE_ITEMS, rule, now, everyone)
            rows = passes[key]
        found = []
        for episode_id, recent, before in rows.get((rule.program_id, item), []):
            change = before - recent if falling else recent - before
            if change >= rule.threshold - 0.001:
                found.append(episode_id)
        return episodes.filter(pk__in=found)

    return candidates


def _disengagement_candidates(rule: FlagRule, now: dt.datetime, episodes: QuerySet[Episode]) -> Any:
    """Silent for SILENT_DAYS and admitted before the window: required by the rule, and
    one index probe per patient (most patients checked in this week)."""
    silent = ~Exists(
        Response.objects.filter(
            patient_id=OuterRef("patient_id"),
            instrument_id__in=_instrument_ids("daily"),
            status=Response.Status.COMPLETE,
            submitted_at__gte=now - dt.timedelta(days=SILENT_DAYS),
            submitted_at__lte=now,
        )
    )
    window = dt.timedelta(days=rule.window_days)
    return episodes.filter(admitted_on__lte=(now - window).date()).filter(silent)


def _phq9_rise_candidates(rule: FlagRule, now: dt.datetime, episodes: QuerySet[Episode]) -> Any:
    """The rule without its count of scores: four index reads per episode (the first
    two and the latest two scores) instead of a count of the episode's whole history."""
    recent, rise2 = _phq9_rise_parts(rule, now)
    return episodes.filter(recent).annotate(rise2=rise2).filter(rise2__gte=2 * rule.threshold)


CANDIDATES: dict[str, Candidates] = {
    "phq9_rise": _phq9_rise_candidates,
    "phq9_deterioration": _measure_candidates("phq9"),
    "gad7_deterioration": _measure_candidates("gad7"),
    "mood_drop": _daily_item_candidates("mood", falling=True),
    "craving_rise": _daily_item_candidates("craving", falling=False),
    "disengagement": _disengagement_candidates,
}


def evaluate(
    rule: FlagRule, now: dt.datetime, *, patient_ids: list[int] | None = None
) -> QuerySet[Episode]:
    """The episodes the rule fires for (EVALUATORS' query): on ``patient_ids`` only
    when given (the evaluation of one patient's new data), otherwise on the rule's
    candidates when it has a cheap necessary condition (CANDIDATES)."""
    evaluated = EVALUATORS[rule.code](rule, now)
    if patient_ids is not None:
        # A few patients: the rule's own query on them is already a few index reads;
        # a candidates query first would only add a round trip.
        return evaluated.filter(patient_id__in=patient_ids)
    narrow = CANDIDATES.get(rule.code)
    if narrow is not None:
        found = list(narrow(rule, now, _episodes(rule)).values_list("patient_id", flat=True))
        evaluated = evaluated.filter(patient_id__in=found)
    return evaluated
