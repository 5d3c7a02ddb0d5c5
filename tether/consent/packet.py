"""The utilization-review packet: what a payer's reviewer reads to decide whether a
patient's stay at this level of care is medically necessary (issue 17).

For one patient and one period: the level of care and its dates (admission, step-downs
and step-ups, discharge), the sessions held and the attendance marked, the PHQ-9 and
GAD-7 scores with their reliable-change markers and the trend chart, the engagement
between sessions (check-ins done against due, homework, messages, use of the crisis
pathway) and the clinician's summary.

This module only reads (a handful of queries, counts in SQL). It is released only by
``services.ur_packet_send``, which checks the patient's consents for every category it
holds (``PACKET_SECTIONS``) and records the disclosure; ``packet_pdf`` renders it.

Reliable change and caseness come from the instrument files (``reliable_change``,
``caseness_at``: NHS Talking Therapies conventions, ../shared/reference/clinical.md):
PHQ-9 a change of 6 or more, GAD-7 4 or more. Nothing here sets a threshold itself.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db.models import Count, F, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from tether.checkins import charts, engine
from tether.checkins.models import Instrument, ProgramInstrument, Response
from tether.checkins.selectors import Point, Series
from tether.crisis.models import UrgentContactRequest
from tether.homework.models import Assignment
from tether.messaging.models import Message
from tether.patients.models import Episode, LevelOfCareChange, Patient
from tether.privacy.gate import disclosure_category_for
from tether.privacy.policy import Category
from tether.scheduling.models import Attendance

MEASURES = ("phq9", "gad7")
MAX_PERIOD_DAYS = 366

# What each part of the packet is, as a record category (before the patient's programs
# turn it into Part 2: ``gate.disclosure_category_for``). A consent in force for the
# payer must cover every one of them. Our reading, stated in docs/REPORTS.md: dates of
# care and attendance are general records; scores and what the patient did between
# sessions (check-ins, homework, messages sent, the crisis button) are the patient's
# self-report; the clinician's summary is the mental-health record.
PACKET_SECTIONS: dict[str, Category] = {
    "care": Category.GENERAL,
    "attendance": Category.GENERAL,
    "measures": Category.SELF_REPORT,
    "engagement": Category.SELF_REPORT,
    "summary": Category.MENTAL_HEALTH,
}
# Strictest first: the category the disclosure row is filed under.
_STRICTNESS = (Category.PART2, Category.MENTAL_HEALTH, Category.SELF_REPORT, Category.GENERAL)


class PeriodRefused(ValueError):
    """The period ends before it starts, starts in the future, or is over a year long."""


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    def check(self, *, today: dt.date) -> None:
        if self.end < self.start:
            raise PeriodRefused(_("The period ends before it starts."))
        if self.start > today:
            raise PeriodRefused(_("The period starts in the future."))
        if (self.end - self.start).days >= MAX_PERIOD_DAYS:
            raise PeriodRefused(_("Choose a period of one year or less."))


def packet_categories(patient: Patient) -> list[Category]:
    """The categories the packet holds for this patient, strictest first (a patient who
    is or was in a Part 2 program: Part 2 only)."""
    found = {disclosure_category_for(patient, base) for base in PACKET_SECTIONS.values()}
    return [c for c in _STRICTNESS if c in found]


@dataclass(frozen=True)
class CareStep:
    day: dt.date
    text: str


@dataclass(frozen=True)
class EpisodeOfCare:
    program: str
    admitted_on: dt.date
    admitted_level: str
    current_level: str
    discharged_on: dt.date | None
    discharge_reason: str
    steps: tuple[CareStep, ...]


@dataclass(frozen=True)
class SessionMark:
    day: dt.date
    session: str
    mark: str


@dataclass(frozen=True)
class Score:
    day: dt.date
    score: int
    severity: str
    marker: str  # reliable change against the baseline, in words ("" for the baseline)
    in_period: bool


@dataclass
class Measure:
    code: str
    name: str
    reliable_change: int | None
    caseness_at: int | None
    scores: list[Score] = field(default_factory=list)
    chart_svg: str = ""
    chart_description: str = ""

    @property
    def summary(self) -> str:
        if len(self.scores) < 2:
            return _("Only one score: no change can be measured yet.") if self.scores else ""
        return self.scores[-1].marker


@dataclass(frozen=True)
class Engagement:
    checkins_due: int
    checkins_done: int
    has_daily_checkin: bool
    homework_due: int
    homework_done: int
    homework_late: int
    messages_from_patient: int
    messages_from_team: int
    urgent_requests: int
    urgent_request_days: tuple[dt.date, ...]


@dataclass
class Packet:
    patient: Patient
    period: Period
    episodes: list[EpisodeOfCare]
    sessions: list[SessionMark]
    attendance_counts: list[tuple[str, int]]
    measures: list[Measure]
    engagement: Engagement
    summary: str
    categories: list[Category]


def _level(value: str) -> str:
    from tether.patients.models import LevelOfCare

    return str(LevelOfCare(value).label) if value in LevelOfCare.values else value


def _episodes(patient: Patient, period: Period) -> list[Episode]:
    return list(
        Episode.objects.filter(patient=patient, admitted_on__lte=period.end)
        .filter(Q(discharged_on__isnull=True) | Q(discharged_on__gte=period.start))
        .select_related("program")
        .order_by("admitted_on", "pk")
    )


def _care(episodes: list[Episode]) -> list[EpisodeOfCare]:
    changes: dict[int, list[LevelOfCareChange]] = {}
    for change in LevelOfCareChange.objects.filter(episode__in=[e.pk for e in episodes]):
        changes.setdefault(change.episode_id, []).append(change)
    rows = []
    for episode in episodes:
        steps = changes.get(episode.pk, [])
        admitted_level = steps[0].from_level if steps else episode.level_of_care
        rows.append(
            EpisodeOfCare(
                program=episode.program.name,
                admitted_on=episode.admitted_on,
                admitted_level=_level(admitted_level),
                current_level=_level(episode.level_of_care),
                discharged_on=episode.discharged_on,
                discharge_reason=episode.get_discharge_reason_display()
                if episode.discharge_reason
                else "",
                steps=tuple(
                    CareStep(
                        s.changed_on,
                        _("%(from)s to %(to)s%(why)s")
                        % {
                            "from": _level(s.from_level),
                            "to": _level(s.to_level),
                            "why": f" ({s.get_reason_display()})" if s.reason else "",
                        },
                    )
                    for s in steps
                ),
            )
        )
    return rows


def _bounds(period: Period, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(period.start, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, min(end, timezone.now())


def _sessions(
    patient: Patient, start: dt.datetime, end: dt.datetime, tz: dt.tzinfo
) -> tuple[list[SessionMark], list[tuple[str, int]]]:
    """Sessions held in the period (not cancelled, already started) and their marks."""
    rows = list(
        Attendance.objects.filter(
            patient=patient,
            appointment__starts_at__gte=start,
            appointment__starts_at__lt=end,
            appointment__is_cancelled=False,
        )
        .select_related("appointment")
        .order_by("appointment__starts_at", "pk")
    )
    marks = []
    counts: dict[str, int] = {}
    for row in rows:
        if row.status == Attendance.Status.SCHEDULED:
            mark = _("Not recorded")
        else:
            mark = str(row.get_status_display())
            if row.absence_reason:
                mark = f"{mark} ({row.get_absence_reason_display()})"
        marks.append(
            SessionMark(
                row.appointment.starts_at.astimezone(tz).date(),
                f"{row.appointment.get_kind_display()}: {row.appointment.title}",
                mark,
            )
        )
        label = (
            _("Not recorded")
            if row.status == Attendance.Status.SCHEDULED
            else str(row.get_status_display())
        )
        counts[label] = counts.get(label, 0) + 1
    attended = sum(1 for row in rows if row.status in Attendance.ATTENDED_STATUSES)
    summary = [(_("Sessions held"), len(rows)), (_("Attended in all"), attended)]
    return marks, summary + sorted(counts.items())


def _marker(definition: engine.Definition, *, baseline: int, current: int) -> str:
    change = engine.change(definition, baseline=baseline, current=current)
    if change is None:
        return ""
    difference = change.difference
    words = []
    if change.reliable_recovery:
        words.append(_("Reliable recovery"))
    elif change.reliable_improvement:
        words.append(_("Reliable improvement"))
    elif change.reliable_deterioration:
        words.append(_("Reliable deterioration"))
    else:
        words.append(_("No reliable change"))
    if change.recovery and not change.reliable_recovery:
        words.append(_("below caseness"))
    return _("%(words)s (%(sign)s%(difference)s from the baseline of %(baseline)s)") % {
        "words": ", ".join(words),
        "sign": "+" if difference > 0 else "",
        "difference": difference,
        "baseline": baseline,
    }


def _svg_for_pdf(svg: str, *, width: int, height: int) -> str:
    """The chart module's SVG, as fpdf2 reads it: a namespace and a size in numbers;
    titles and descriptions (for screen readers; the PDF has the table) left out."""
    match = re.search(r"<svg\b.*</svg>", svg, flags=re.DOTALL)
    body = match.group(0) if match else ""
    body = re.sub(r"<title\b[^>]*>.*?</title>|<desc\b[^>]*>.*?</desc>", "", body, flags=re.DOTALL)
    return body.replace(
        'width="100%"', f'xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"', 1
    )


def _measures(
    patient: Patient,
    episodes: list[Episode],
    start: dt.datetime,
    end: dt.datetime,
    tz: dt.tzinfo,
) -> list[Measure]:
    """Each measure's scores from the first episode's baseline to the period's end: the
    baseline is the first score of the care, even when it is before the period."""
    responses = list(
        Response.objects.filter(
            patient=patient,
            episode__in=[e.pk for e in episodes],
            instrument__code__in=MEASURES,
            status=Response.Status.COMPLETE,
            total__isnull=False,
            submitted_at__lt=end,
        )
        .select_related("instrument")
        .order_by("submitted_at", "pk")
    )
    by_code: dict[str, list[Response]] = {}
    instruments: dict[str, Instrument] = {}
    for response in responses:
        by_code.setdefault(response.instrument.code, []).append(response)
        instruments.setdefault(response.instrument.code, response.instrument)
    measures = []
    for code in MEASURES:
        found = by_code.get(code)
        if not found:
            continue
        instrument = instruments[code]
        definition = instrument.spec
        measure = Measure(
            code=code,
            name=instrument.short_name,
            reliable_change=definition.reliable_change,
            caseness_at=definition.caseness_at,
        )
        baseline = found[0].total or 0
        series = Series(instrument, None)
        for index, response in enumerate(found):
            total = response.total or 0
            when = response.submitted_at or response.started_at
            band = definition.band_for(total)
            measure.scores.append(
                Score(
                    day=when.astimezone(tz).date(),
                    score=total,
                    severity=str(band.label) if band else "",
                    marker=""
                    if index == 0
                    else _marker(definition, baseline=baseline, current=total),
                    in_period=when >= start,
                )
            )
            series.points.append(Point(response, when, total, {}, band=band))
        chart = charts.chart_for(series)
        measure.chart_description = chart.description
        measure.chart_svg = _svg_for_pdf(
            render_to_string("checkins/chart.html", {"chart": chart}, using="jinja2"),
            width=chart.width,
            height=chart.height,
        )
        measures.append(measure)
    return measures


def _engagement(
    patient: Patient, episodes: list[Episode], period: Period, start: dt.datetime, end: dt.datetime
) -> Engagement:
    """Counts in SQL: check-ins, homework, messages, urgent requests (five queries)."""
    daily_programs = set(
        ProgramInstrument.objects.filter(
            program__in=[e.program_id for e in episodes],
            schedule=ProgramInstrument.Schedule.DAILY,
            is_active=True,
        ).values_list("program_id", flat=True)
    )
    last_day = min(period.end, (end - dt.timedelta(microseconds=1)).astimezone(start.tzinfo).date())
    due = 0
    for episode in episodes:
        if episode.program_id not in daily_programs:
            continue
        first = max(episode.admitted_on, period.start)
        last = min(episode.discharged_on or last_day, last_day)
        if last >= first:
            due += (last - first).days + 1
    done = (
        Response.objects.filter(
            patient=patient,
            episode__in=[e.pk for e in episodes],
            status=Response.Status.COMPLETE,
            window__startswith="daily:",
            submitted_at__gte=start,
            submitted_at__lt=end,
        )
        .values("window")
        .distinct()
        .count()
    )
    homework = Assignment.objects.filter(
        patient=patient, for_family=False, due_on__gte=period.start, due_on__lte=period.end
    ).aggregate(
        due=Count("pk"),
        done=Count("pk", filter=Q(status=Assignment.Status.DONE)),
        late=Count(
            "pk",
            filter=Q(status=Assignment.Status.DONE, completed_at__date__gt=F("due_on")),
        ),
    )
    messages = Message.objects.filter(
        thread__patient=patient, created_at__gte=start, created_at__lt=end
    ).aggregate(
        patient=Count("pk", filter=Q(author_kind=Message.AuthorKind.PATIENT)),
        team=Count("pk", filter=Q(author_kind=Message.AuthorKind.STAFF)),
    )
    urgent = [
        raised.astimezone(start.tzinfo).date()
        for raised in UrgentContactRequest.objects.filter(
            patient=patient, raised_at__gte=start, raised_at__lt=end
        )
        .order_by("raised_at")
        .values_list("raised_at", flat=True)
    ]
    return Engagement(
        checkins_due=due,
        checkins_done=min(done, due) if daily_programs else done,
        has_daily_checkin=bool(daily_programs),
        homework_due=homework["due"],
        homework_done=homework["done"],
        homework_late=homework["late"],
        messages_from_patient=messages["patient"],
        messages_from_team=messages["team"],
        urgent_requests=len(urgent),
        urgent_request_days=tuple(urgent),
    )


def build_packet(*, patient: Patient, period: Period, summary: str) -> Packet:
    """Everything the packet shows. The caller has passed the gate and checked consent."""
    episodes = _episodes(patient, period)
    # The program's time zone decides what a day is (the latest episode's program).
    tz = episodes[-1].program.tzinfo if episodes else timezone.get_current_timezone()
    start, end = _bounds(period, tz)
    marks, counts = _sessions(patient, start, end, tz)
    return Packet(
        patient=patient,
        period=period,
        episodes=_care(episodes),
        sessions=marks,
        attendance_counts=counts,
        measures=_measures(patient, episodes, start, end, tz),
        engagement=_engagement(patient, episodes, period, start, end),
        summary=summary,
        categories=packet_categories(patient),
    )
