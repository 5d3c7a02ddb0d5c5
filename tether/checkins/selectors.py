"""Reads for check-ins and measures. Views ask the privacy gate (category
``self_report``) before calling these; the staff-page and home-page helpers at the
bottom ask it themselves.

Every response carries the category it was labelled with at capture
(``Response.record_category``: a Part 2 program's check-ins are Part 2 records).
``readable_categories`` asks the gate, per category, which of them this person may
read; ``history`` and ``unfinished`` return only responses of those categories."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Count,
    Exists,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import get_language

from tether.checkins import engine, languages
from tether.checkins.models import (
    RESPONSE_CATEGORIES,
    Answer,
    Instrument,
    ProgramInstrument,
    Response,
)
from tether.checkins.schedule import Window, window_for
from tether.flags.models import Flag
from tether.flags.selectors import open_flags_for
from tether.lib import statements
from tether.patients.models import Episode, Patient
from tether.privacy import audit
from tether.privacy.gate import decide
from tether.privacy.models import Purpose
from tether.privacy.policy import Action, Category
from tether.scheduling.models import Appointment, Attendance


def current_episode(*, patient: Patient) -> Episode | None:
    return (
        Episode.objects.filter(patient=patient, status=Episode.Status.ACTIVE)
        .select_related("program")
        .first()
    )


def program_flags(episode: Episode) -> dict[str, bool]:
    return {"treats_substance_use": episode.program.treats_substance_use}


@dataclass(frozen=True)
class Due:
    schedule: ProgramInstrument
    instrument: Instrument
    window: Window
    draft: Response | None

    @property
    def closes_at_midnight(self) -> bool:
        """Closes at the end of a day (then the page says "through Sunday", not "until
        Monday 12:00 AM")."""
        local = timezone.localtime(self.window.closes_at)
        return local.hour == 0 and local.minute == 0

    @property
    def last_open_day(self) -> dt.date:
        return timezone.localdate(self.window.closes_at - dt.timedelta(seconds=1))

    @property
    def is_daily(self) -> bool:
        return self.schedule.schedule == ProgramInstrument.Schedule.DAILY


def _next_appointment(
    patient: Patient, now: dt.datetime, upcoming: Sequence[Attendance] | None = None
) -> Appointment | None:
    if upcoming:
        for known in upcoming:
            if (
                known.status == Attendance.Status.SCHEDULED
                and not known.appointment.is_cancelled
                and known.appointment.starts_at > now
            ):
                return known.appointment
    attendance = (
        Attendance.objects.filter(
            patient=patient,
            status=Attendance.Status.SCHEDULED,
            appointment__is_cancelled=False,
            starts_at__gt=now,  # the index (patient, starts_at)
        )
        .select_related("appointment")
        .order_by("starts_at", "pk")
        .first()
    )
    return attendance.appointment if attendance else None


def due_for(
    *,
    patient: Patient,
    episode: Episode | None,
    now: dt.datetime | None = None,
    upcoming: Sequence[Attendance] | None = None,
) -> list[Due]:
    """What the patient should fill in now, daily check-in first. Four queries at most,
    each compiled once per process (``tether.lib.statements``: the patient's home page
    asks on every visit).

    ``upcoming``: the patient's next sessions as the caller already read them (soonest
    first, cancelled ones left out, at most ``len(upcoming)`` of them); the next one to
    attend is taken from them when they settle it, saving a query."""
    if episode is None:
        return []
    now = now or timezone.now()
    program = {"program": episode.program_id}
    schedules = statements.instances(
        "checkins.due.schedules", ProgramInstrument, _schedules_of, program
    )
    if not schedules:
        return []
    instruments = {
        i.code: i
        for i in statements.instances(
            "checkins.due.instruments", Instrument, _instruments_of, program
        )
    }
    needs_session = any(s.schedule == ProgramInstrument.Schedule.BEFORE_SESSION for s in schedules)
    appointment = _next_appointment(patient, now, upcoming) if needs_session else None
    windows: list[tuple[ProgramInstrument, Instrument, Window]] = []
    for schedule in schedules:
        instrument = instruments.get(schedule.instrument_code)
        if instrument is None:
            continue
        window = window_for(
            schedule.schedule, now=now, tz=episode.program.tzinfo, next_appointment=appointment
        )
        if window is not None:
            windows.append((schedule, instrument, window))
    if not windows:
        return []
    keys = {f"window_{n}": w.key for n, (_, _, w) in enumerate(windows)}
    existing = {
        (r.instrument_id, r.window): r
        for r in statements.instances(
            ("checkins.due.responses", len(keys)),
            Response,
            _responses_in,
            {"patient": patient.pk, **keys},
        )
    }
    due = []
    for schedule, instrument, window in windows:
        response = existing.get((instrument.pk, window.key))
        if response is not None and response.status != Response.Status.DRAFT:
            continue
        due.append(Due(schedule, instrument, window, response))
    # Which first, when several are due: one already started, then the one that closes
    # soonest (the home page says so), the daily check-in before a questionnaire on a tie.
    due.sort(key=lambda d: (d.draft is None, d.window.closes_at, not d.is_daily, d.instrument.code))
    return due


def _schedules_of(values: Mapping[str, Any]) -> QuerySet[ProgramInstrument]:
    return ProgramInstrument.objects.filter(program_id=values["program"], is_active=True)


def _instruments_of(values: Mapping[str, Any]) -> QuerySet[Instrument]:
    """The current version of each instrument the program has turned on."""
    return Instrument.objects.filter(
        code__in=_schedules_of(values).values("instrument_code"), is_current=True
    )


def _responses_in(values: Mapping[str, Any]) -> QuerySet[Response]:
    """The patient's responses in the windows ``window_0``, ``window_1``… of ``values``."""
    windows = [value for name, value in values.items() if name.startswith("window_")]
    return Response.objects.filter(patient_id=values["patient"], window__in=windows)


def home_due(
    request: HttpRequest,
    *,
    patient: Patient,
    episode: Episode | None,
    upcoming: Sequence[Attendance] | None = None,
) -> list[Due]:
    """For the patient home page: what is due, read through the gate and audited
    (``self_report``, apart from the page's own ``general`` read). ``episode`` and
    ``upcoming`` are what the page already loaded for this patient."""
    decision = decide(
        request.user,  # type: ignore[arg-type]
        patient,
        category=Category.SELF_REPORT,
        action=Action.VIEW,
    )
    if not decision.allowed:
        return []
    audit.record_access(
        request,
        patient=patient,
        category=Category.SELF_REPORT,
        action=Action.VIEW,
        purpose=Purpose.PATIENT_REQUEST,
        relation=decision.relation,
    )
    if episode is not None and episode.patient_id != patient.pk:
        raise ValueError("episode of another patient")
    return due_for(patient=patient, episode=episode, upcoming=upcoming)


# --- Which labelled responses this person may read ----------------------------------


def readable_categories(
    request: HttpRequest, *, patient: Patient, purpose: Purpose
) -> frozenset[str]:
    """The check-in record categories (``self_report``, ``part2``) the signed-in person
    may read for this patient, each asked of the gate.

    Audited under the category of what the patient's record actually holds (their
    responses' and open flags' labels): a patient with no Part 2 record gets no
    "viewed Part 2" row, and a Part 2 record the person may not read gets a denied one.
    With nothing recorded yet, the look is recorded as ``self_report``."""
    user = request.user
    # Which labels the record holds: one query of yes/no questions, each answered by the
    # first matching row (not every response of a year of history).
    held = (
        Patient.objects.filter(pk=patient.pk)
        .annotate(
            **{
                category.value: Exists(
                    Response.objects.filter(patient=patient, record_category=category.value)
                )
                | Exists(
                    Flag.objects.filter(
                        patient=patient, status=Flag.Status.OPEN, record_category=category.value
                    )
                )
                for category in RESPONSE_CATEGORIES
            }
        )
        .values_list(*(category.value for category in RESPONSE_CATEGORIES))
    )
    answers = held.first() or (False,) * len(RESPONSE_CATEGORIES)
    present = {
        category.value for category, yes in zip(RESPONSE_CATEGORIES, answers, strict=True) if yes
    }
    if not present:
        present = {Category.SELF_REPORT.value}
    readable = set()
    for category in RESPONSE_CATEGORIES:
        decision = decide(user, patient, category=category, action=Action.VIEW)  # type: ignore[arg-type]
        if decision.allowed:
            readable.add(category.value)
        if category.value not in present:
            continue
        if not decision.allowed:
            audit.record_denied(
                request, patient=patient, category=category, action=Action.VIEW, purpose=purpose
            )
            continue
        audit.record_access(
            request,
            patient=patient,
            category=category,
            action=Action.VIEW,
            purpose=purpose,
            relation=decision.relation,
        )
    return frozenset(readable)


def visible_flags(*, patient: Patient, categories: frozenset[str]) -> list[Flag]:
    """Open flags, without the Part 2 ones (``Flag.record_category``: a Part 2 program's
    flags and craving flags) unless Part 2 is readable."""
    return open_flags_for(patient=patient, include_part2=Category.PART2.value in categories)


# --- History and trends -------------------------------------------------------------


@dataclass
class Point:
    response: Response
    when: dt.datetime
    value: int | None
    answers: dict[str, int | str | None]
    change: engine.Change | None = None
    band: engine.Band | None = None
    item_values: list[int | str | None] = field(default_factory=list)


@dataclass
class Series:
    """One measure's (or one daily-check-in item's) history in the current episode."""

    instrument: Instrument
    item: engine.Item | None  # for a daily check-in item chart; None for a measure total
    points: list[Point] = field(default_factory=list)
    incomplete: int = 0
    # The episode's first score when it lies before the period shown (``history`` with a
    # period): changes are measured from it, it is not drawn.
    first: Point | None = None

    @property
    def spec(self) -> engine.Definition:
        return self.instrument.spec

    @property
    def key(self) -> str:
        return f"{self.instrument.code}-{self.item.code}" if self.item else self.instrument.code

    @property
    def title(self) -> str:
        """The measure's short name, or the item's question in the words the reader was
        asked it in (the daily check-in's own wording is in Spanish too)."""
        if self.item is None:
            return self.instrument.short_name
        shown = languages.shown_in(instrument_code=self.instrument.code, language=get_language())
        return languages.wording(self.item.text, shown=shown)

    @property
    def baseline(self) -> Point | None:
        if self.first is not None:
            return self.first
        return self.points[0] if self.points else None

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None

    @property
    def latest_change(self) -> engine.Change | None:
        return self.latest.change if self.latest else None

    @property
    def scale_max(self) -> int:
        if self.item is not None:
            return max(self.item.values or (0,))
        return self.spec.score_max


def with_instruments(responses: Iterable[Response]) -> list[Response]:
    """``responses`` with their instruments, one instance per instrument shared by all of
    them: one read of the few instruments. (``select_related`` gave each response its
    own copy, whose definition was decoded and parsed again for each: a year's progress
    page parsed 83 copies of three definitions, ~15 ms of it.)"""
    responses = list(responses)
    if responses:
        found = Instrument.objects.in_bulk({r.instrument_id for r in responses})
        for response in responses:
            response.instrument = found[response.instrument_id]
    return responses


def _answers_of(response_ids: list[int]) -> dict[int, dict[str, int | str | None]]:
    """Each response's answers by item code (a number, or the text of a text item), read
    as values: a year's page reads hundreds of them."""
    answers: dict[int, dict[str, int | str | None]] = defaultdict(dict)
    if not response_ids:
        return answers
    found = (
        Answer.objects.filter(response__in=response_ids)
        .order_by("id")
        .values_list("response_id", "item_code", "value", "text")
    )
    for response_id, item_code, value, text in found:
        answers[response_id][item_code] = value if value is not None else text
    return answers


def history(
    *,
    patient: Patient,
    episode: Episode | None,
    categories: frozenset[str],
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[Series]:
    """Every closed response of the episode labelled with one of ``categories``, as
    series to chart; with ``since``/``until``, only those sent in that period (a page
    that must not grow with the history), changes still measured from the episode's
    first score. Three queries (the responses, their instruments, their answers), five
    with a period (each measure's first score before it)."""
    if episode is None or not categories:
        return []
    closed = Response.objects.filter(
        patient=patient, episode=episode, record_category__in=categories
    ).exclude(status=Response.Status.DRAFT)
    shown = closed
    if since is not None:
        shown = shown.filter(submitted_at__gte=since)
    if until is not None:
        shown = shown.filter(submitted_at__lt=until)
    responses = list(shown.order_by("submitted_at", "id"))
    firsts: dict[int, Response] = {}
    if since is not None:
        # The episode's first score of each measure, when it is before the period: one
        # read of the scored responses' dates per measure (response_latest_by_instrument).
        earliest = (
            closed.filter(
                status=Response.Status.COMPLETE, total__isnull=False, submitted_at__lt=since
            )
            .order_by()
            .values("instrument_id")
            .annotate(at=Min("submitted_at"))
        )
        dates = Q()
        for row in earliest:
            dates |= Q(instrument_id=row["instrument_id"], submitted_at=row["at"])
        if dates:
            for response in closed.filter(dates, status=Response.Status.COMPLETE).order_by("id"):
                firsts.setdefault(response.instrument_id, response)
    with_instruments([*responses, *firsts.values()])
    answers = _answers_of([r.pk for r in responses] + [r.pk for r in firsts.values()])
    series: dict[str, Series] = {}
    # Only the items the patient's program asks: no craving chart for a patient of a
    # program that does not treat substance use (engine.Item.only_if_program).
    flags = program_flags(episode)

    def scored_point(response: Response) -> Point:
        spec = response.instrument.spec
        given = answers.get(response.pk, {})
        total = response.total or 0
        return Point(
            response,
            response.submitted_at or response.started_at,
            response.total,
            given,
            band=spec.band_for(total),
            item_values=[given.get(item.code) for item in spec.scored_items],
        )

    for response in firsts.values():
        spec = response.instrument.spec
        if spec.is_scored:
            series.setdefault(spec.code, Series(response.instrument, None)).first = scored_point(
                response
            )
    for response in responses:
        spec = response.instrument.spec
        when = response.submitted_at or response.started_at
        given = answers.get(response.pk, {})
        if spec.is_scored:
            s = series.setdefault(spec.code, Series(response.instrument, None))
            if response.status != Response.Status.COMPLETE or response.total is None:
                s.incomplete += 1
                continue
            point = scored_point(response)
            baseline = s.baseline
            if baseline is not None:
                point.change = engine.change(
                    spec, baseline=baseline.value or 0, current=response.total
                )
            s.points.append(point)
        else:
            for item in spec.items_for(flags):
                if not item.chart:
                    continue
                s = series.setdefault(f"{spec.code}-{item.code}", Series(response.instrument, item))
                value = given.get(item.code)
                if isinstance(value, int):
                    s.points.append(Point(response, when, value, given))
    # A measure whose first score is before the period and nothing in it: no card.
    drawn = [s for s in series.values() if s.points or s.incomplete]
    return sorted(drawn, key=lambda s: (s.item is None, s.instrument.code))


@dataclass
class Unfinished:
    response: Response
    answers: list[tuple[engine.Item, int | str | None]]


def unfinished(
    *, patient: Patient, episode: Episode | None, categories: frozenset[str]
) -> list[Unfinished]:
    """Responses in progress or closed unfinished, with what was answered (two queries).
    Never scored; shown to staff so a flagged answer can be read in context."""
    if episode is None or not categories:
        return []
    responses = with_instruments(
        Response.objects.filter(patient=patient, episode=episode, record_category__in=categories)
        .exclude(status=Response.Status.COMPLETE)
        .order_by("-started_at", "-id")
    )
    given = _answers_of([r.pk for r in responses])
    rows = []
    for response in responses:
        spec = response.instrument.spec
        answered = given.get(response.pk, {})
        rows.append(
            Unfinished(
                response,
                [(item, answered[item.code]) for item in spec.items if item.code in answered],
            )
        )
    return rows


def staff_self_report(request: HttpRequest, *, patient: Patient) -> dict[str, object] | None:
    """For the staff patient page: open flags and the latest of each measure, or None
    when this person may not see the patient's self-reports (reads audited). Responses
    labelled Part 2 show only to those the gate lets read Part 2 records."""
    categories = readable_categories(request, patient=patient, purpose=Purpose.TREATMENT)
    if Category.SELF_REPORT.value not in categories:
        return None
    episode = current_episode(patient=patient)
    return {
        "flags": visible_flags(patient=patient, categories=categories),
        "series": latest_scores(patient=patient, episode=episode, categories=categories),
    }


def latest_scores(
    *, patient: Patient, episode: Episode | None, categories: frozenset[str]
) -> list[Series]:
    """Each measure's latest score, its baseline (the episode's first) and the change
    between them: what ``history`` gives for the scored measures, without reading the
    episode's whole history (the staff overview; the measures page has the charts). Two
    queries whatever the history, each score found by the index
    response_latest_by_instrument."""
    if episode is None or not categories:
        return []
    closed = Response.objects.filter(
        patient=patient,
        episode=episode,
        record_category__in=categories,
        instrument=OuterRef("pk"),
    ).exclude(status=Response.Status.DRAFT)
    scored_condition = Q(status=Response.Status.COMPLETE, total__isnull=False)
    scored = closed.filter(scored_condition)
    instruments = list(
        Instrument.objects.filter(Exists(closed))
        .annotate(
            first_id=Subquery(scored.order_by("submitted_at", "id").values("id")[:1]),
            latest_id=Subquery(scored.order_by("-submitted_at", "-id").values("id")[:1]),
            incomplete=Coalesce(
                Subquery(
                    closed.exclude(scored_condition)
                    .order_by()
                    .values("instrument")
                    .annotate(n=Count("pk"))
                    .values("n")[:1],
                    output_field=IntegerField(),
                ),
                Value(0),
            ),
        )
        .order_by("code")
    )
    instruments = [i for i in instruments if i.spec.is_scored]
    wanted = {i.first_id for i in instruments} | {i.latest_id for i in instruments}
    responses = {
        r.pk: r for r in Response.objects.filter(pk__in=[pk for pk in wanted if pk is not None])
    }
    series = []
    for instrument in instruments:
        spec = instrument.spec
        line = Series(instrument, None, incomplete=instrument.incomplete)

        def point(pk: int) -> Point:
            response = responses[pk]
            response.instrument = instrument  # noqa: B023 - used within this iteration
            return Point(
                response,
                response.submitted_at or response.started_at,
                response.total,
                {},
                band=spec.band_for(response.total or 0),  # noqa: B023
            )

        if instrument.first_id is not None:
            line.first = point(instrument.first_id)
            latest = point(instrument.latest_id)
            if instrument.latest_id != instrument.first_id:
                latest.change = engine.change(
                    spec, baseline=line.first.value or 0, current=latest.value or 0
                )
            line.points.append(latest)
        series.append(line)
    return series
