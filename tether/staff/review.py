"""The pre-session review: what happened since the last attended session, readable
in a minute, in a fixed number of queries. ``review_data`` returns plain data (a
dict of ids, dates, numbers and codes) so the FHIR export can reuse it;
``note_text`` turns it into the plain-text block for the session note."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tether.checkins import engine
from tether.checkins.models import Answer, Response
from tether.crisis.selectors import patient_asked_events
from tether.flags.models import Flag
from tether.flags.selectors import visible_flags
from tether.homework.models import Assignment
from tether.homework.selectors import WINDOW_DAYS, counted_between, late_condition, window_bounds
from tether.lib import statements
from tether.messaging.models import Message
from tether.patients.models import Episode, Patient
from tether.privacy.policy import Category
from tether.scheduling.models import Attendance

MEASURE_NAMES = {"phq9": "PHQ-9", "gad7": "GAD-7"}


def _reliable_change() -> dict[str, int]:
    """Each measure's reliable change, from its instrument definition
    (tether/checkins/instruments/*.json, taken from shared/reference; the newest version
    of each), in the review's order."""
    by_code = {d.code: d.reliable_change for d, _data in engine.shipped()}
    found: dict[str, int] = {}
    for code in MEASURE_NAMES:
        value = by_code.get(code)
        if value is not None:
            found[code] = int(value)
    return found


RELIABLE_CHANGE = _reliable_change()
# Opening the review is recorded as an audit event of its own (this object type), apart
# from the gate's read of the self-report record that every page makes, so that the
# reports can count the sessions a clinician prepared for (tether/reports: the
# pre-session review rate). Its purpose of use stays treatment (v3-ActReason TREAT).
PRE_SESSION_REVIEW = "staff.pre_session_review"


def record_review_opened(request: HttpRequest, *, patient: Patient) -> None:
    """Record that the signed-in clinician opened this patient's pre-session review."""
    from tether.privacy import audit
    from tether.privacy.gate import decide
    from tether.privacy.models import Purpose
    from tether.privacy.policy import Action, Relation

    user = request.user
    decision = decide(user, patient, category=Category.SELF_REPORT, action=Action.VIEW)  # type: ignore[arg-type]
    if not decision.allowed:
        return
    emergency = decision.relation == Relation.BREAK_GLASS
    audit.append_many(
        [
            audit.event_for(
                request=request,
                actor=user,  # type: ignore[arg-type]
                patient=patient,
                action=Action.VIEW,
                category=Category.SELF_REPORT,
                purpose=Purpose.EMERGENCY if emergency else Purpose.TREATMENT,
                object_type=PRE_SESSION_REVIEW,
                relation=decision.relation,
            )
        ]
    )


def _count(rows: QuerySet[Any], field: str = "patient") -> Coalesce:
    """How many of ``rows`` belong to the outer patient (a scalar subquery)."""
    counted = (
        rows.filter(**{field: OuterRef("pk")}).order_by().values(field).annotate(n=Count("pk"))
    )
    return Coalesce(Subquery(counted.values("n")[:1], output_field=IntegerField()), Value(0))


def _counts_statement(values: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
    since, now, today = values["since"], values["now"], values["today"]
    due = counted_between(start=values["start"], today=today, start_at=values["start_at"])
    between = Attendance.objects.filter(
        appointment__starts_at__gt=since, appointment__starts_at__lt=now
    )
    sql, params = (
        Patient.objects.filter(pk=values["patient"])
        .annotate(
            homework_due=_count(due),
            homework_done=_count(due.filter(status=Assignment.Status.DONE)),
            homework_late=_count(due.filter(late_condition(today))),
            messages_sent=_count(
                Message.objects.filter(
                    author_kind=Message.AuthorKind.PATIENT, created_at__gt=since
                ),
                "thread__patient",
            ),
            crisis_uses=_count(
                patient_asked_events().filter(occurred_at__gte=since), "request__patient"
            ),
            attended=_count(between.filter(status__in=Attendance.ATTENDED_STATUSES)),
            absent=_count(between.filter(status=Attendance.Status.ABSENT)),
            excused=_count(between.filter(status=Attendance.Status.EXCUSED)),
        )
        .values(*_COUNTED)
        .query.sql_with_params()
    )
    return str(sql), tuple(params)


_COUNTED = (
    "homework_due",
    "homework_done",
    "homework_late",
    "messages_sent",
    "crisis_uses",
    "attended",
    "absent",
    "excused",
)


def _counts(
    *, patient_id: int, since: dt.datetime, now: dt.datetime, today: dt.date
) -> dict[str, int]:
    """The review's counts for one patient: one statement."""
    with statements.executed(
        "staff.review.counts",
        _counts_statement,
        {
            "patient": patient_id,
            "since": since,
            "now": now,
            "today": today,
            **window_bounds(today),
        },
    ) as cursor:
        names = [column[0] for column in cursor.description or ()]
        row = cursor.fetchone()
    found = dict(zip(names, row or (), strict=False))
    return {name: int(found.get(name) or 0) for name in _COUNTED}


def _categories(include_part2: bool) -> list[str]:
    # Check-ins carry their record category from capture (tether.checkins): a Part 2
    # program's are Part 2 records, left out unless the viewer may see Part 2.
    return [Category.SELF_REPORT.value] + ([Category.PART2.value] if include_part2 else [])


def _attended(values: Mapping[str, Any]) -> QuerySet[Attendance]:
    return Attendance.objects.filter(
        patient_id=values["patient"],
        status__in=Attendance.ATTENDED_STATUSES,
        appointment__starts_at__lt=values["now"],
    ).order_by("-appointment__starts_at")


def _episode_rows(values: Mapping[str, Any]) -> QuerySet[Any, Any]:
    """The active episode: its id, admission and the last attended session's start."""
    return (
        Episode.objects.filter(patient_id=values["patient"], status=Episode.Status.ACTIVE)
        .annotate(last_attended=Subquery(_attended(values).values("appointment__starts_at")[:1]))
        .order_by("pk")
        .values_list("pk", "admitted_on", "last_attended")[:1]
    )


def _scored(values: Mapping[str, Any], *, include_part2: bool) -> QuerySet[Any, Any]:
    """Every PHQ-9 and GAD-7 score of the patient's, oldest first."""
    return (
        Response.objects.filter(
            patient_id=values["patient"],
            record_category__in=_categories(include_part2),
            instrument__code__in=list(RELIABLE_CHANGE),
            status=Response.Status.COMPLETE,
            total__isnull=False,
            submitted_at__lte=values["now"],
        )
        .order_by("submitted_at", "pk")
        .values_list("instrument__code", "submitted_at", "total")
    )


def _quoted(values: Mapping[str, Any], *, include_part2: bool) -> QuerySet[Any, Any]:
    """The answers the review quotes, in one read: PHQ-9 item 9 above 0 since the
    session, and the daily mood of the two windows averaged (never the whole daily
    history)."""
    return (
        Answer.objects.filter(
            response__patient_id=values["patient"],
            response__record_category__in=_categories(include_part2),
            response__status=Response.Status.COMPLETE,
        )
        .filter(
            Q(
                response__instrument__code="phq9",
                response__submitted_at__gt=values["since"],
                item_code="9",
                value__gt=0,
            )
            | Q(
                response__instrument__code="daily",
                response__submitted_at__gt=values["week_before"],
                item_code="mood",
                value__isnull=False,
            )
        )
        .order_by("answered_at", "pk")
        .values_list("response__instrument__code", "answered_at", "value", "response__submitted_at")
    )


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def review_data(
    *, patient: Patient, now: dt.datetime | None = None, include_part2: bool = False
) -> dict[str, Any]:
    """Since the last attended session. ``include_part2``: the viewer may see the
    patient's Part 2 record (else Part 2 flags — raised from a Part 2 program's data,
    or revealing substance use — are left out).

    Five queries whatever the history: the episode with the last attended session, the
    scores, the answers the review quotes (item 9, daily mood), every count in one
    statement, and the open flags."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    part2 = "part2" if include_part2 else "no part2"
    values = {"patient": patient.pk, "now": now}
    # The statements below are compiled once per process (tether.lib.statements): their
    # shape depends only on whether the viewer may see Part 2.
    found = statements.rows(("staff.review.episode", part2), _episode_rows, values)
    episode_id, admitted_on, last_attended = found[0] if found else (None, None, None)
    if episode_id is None:
        last_attended = _attended(values).values_list("appointment__starts_at", flat=True).first()
    if last_attended is not None:
        since = last_attended
    elif admitted_on is not None:
        since = timezone.make_aware(dt.datetime.combine(admitted_on, dt.time.min))
    else:
        since = now - dt.timedelta(days=7)

    scored = statements.rows(
        ("staff.review.scores", part2),
        lambda v: _scored(v, include_part2=include_part2),
        values,
    )  # total is never None here (filtered above)
    scores = []
    for code, threshold in RELIABLE_CHANGE.items():
        series = [
            (when, int(total or 0)) for c, when, total in scored if c == code and when is not None
        ]
        if not series:
            continue
        before = [total for when, total in series if when <= since]
        after = [(when, total) for when, total in series if when > since]
        latest_at, latest = series[-1]
        previous = before[-1] if before else (series[-2][1] if len(series) > 1 else None)
        baseline = series[0][1]
        change = latest - previous if previous is not None else None
        from_baseline = latest - baseline
        scores.append(
            {
                "code": code,
                "name": MEASURE_NAMES[code],
                "latest": latest,
                "latest_at": latest_at,
                "previous": previous,
                "change": change,
                "baseline": baseline,
                "from_baseline": from_baseline,
                "reliable_change": (
                    "deterioration"
                    if from_baseline >= threshold
                    else "improvement"
                    if from_baseline <= -threshold
                    else ""
                ),
                "new_since": len(after),
            }
        )

    # The answers the review quotes, in one read: PHQ-9 item 9 above 0 since the session,
    # and the daily mood of the two windows averaged below (never the whole daily history).
    quoted = statements.rows(
        ("staff.review.quoted", part2),
        lambda v: _quoted(v, include_part2=include_part2),
        {"patient": patient.pk, "since": since, "week_before": since - dt.timedelta(days=7)},
    )
    item9 = [(at, value) for code, at, value, _sent in quoted if code == "phq9"]
    mood = [
        (value, sent) for code, _at, value, sent in quoted if code == "daily" and value is not None
    ]
    recent_mood = [value for value, sent in mood if sent > since]
    earlier_mood = [value for value, sent in mood if sent <= since]

    # Every count in one statement (scalar subqueries on this one patient's row),
    # compiled once per process (tether.lib.statements).
    counts = _counts(patient_id=patient.pk, since=since, now=now, today=today)
    open_flags = visible_flags(
        Flag.objects.filter(patient=patient, status=Flag.Status.OPEN), include_part2=include_part2
    )
    flags = list(open_flags.select_related("rule").order_by("-severity", "raised_at"))
    return {
        "patient_id": patient.pk,
        "episode_id": episode_id,
        "since": since,
        "since_session": last_attended is not None,
        "generated_at": now,
        "scores": scores,
        "item9": [{"at": at, "value": value} for at, value in item9],
        "mood": {
            "recent_mean": _mean(recent_mood),
            "recent_count": len(recent_mood),
            "before_mean": _mean(earlier_mood),
        },
        "homework": {
            "due": counts["homework_due"],
            "done": counts["homework_done"],
            "late": counts["homework_late"],
            "window_days": WINDOW_DAYS,
        },
        "messages_sent": counts["messages_sent"],
        "crisis_pathway_uses": counts["crisis_uses"],
        "attendance": {
            "attended": counts["attended"],
            "absent": counts["absent"],
            "excused": counts["excused"],
        },
        "flags": [
            {
                "id": f.pk,
                "kind": f.kind,
                "code": f.reason,
                "severity": f.severity,
                "raised_at": f.raised_at,
                "why": f.why,
                "evidence": f.evidence,
            }
            for f in flags
        ],
    }


def _when(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d")


def note_text(data: dict[str, Any]) -> str:
    """Plain text for the session note (no identifiers: the note is in the patient's chart)."""
    lines = [
        _("Pre-session review since %(since)s (%(what)s).")
        % {
            "since": _when(data["since"]),
            "what": _("last attended session") if data["since_session"] else _("admission"),
        }
    ]
    for s in data["scores"]:
        line = _("%(name)s: %(latest)s") % {"name": s["name"], "latest": s["latest"]}
        if s["change"] is not None:
            line += _(" (change %(change)+d since last session)") % {"change": s["change"]}
        line += _("; %(delta)+d from baseline %(baseline)s") % {
            "delta": s["from_baseline"],
            "baseline": s["baseline"],
        }
        if s["reliable_change"] == "deterioration":
            line += _(", reliable deterioration")
        elif s["reliable_change"] == "improvement":
            line += _(", reliable improvement")
        lines.append(line + ".")
    if data["item9"]:
        lines.append(
            _("PHQ-9 item 9 above 0 on: %(days)s.")
            % {"days": ", ".join(f"{_when(i['at'])} ({i['value']})" for i in data["item9"])}
        )
    mood = data["mood"]
    if mood["recent_mean"] is not None:
        lines.append(
            _("Daily mood: mean %(mean)s over %(n)s check-ins.")
            % {"mean": mood["recent_mean"], "n": mood["recent_count"]}
        )
    hw = data["homework"]
    lines.append(
        _("Homework (last %(days)s days): %(done)s of %(due)s done, %(late)s late.")
        % {"done": hw["done"], "due": hw["due"], "late": hw["late"], "days": hw["window_days"]}
    )
    lines.append(_("Messages sent by the patient: %(n)s.") % {"n": data["messages_sent"]})
    lines.append(_("Crisis pathway used: %(n)s time(s).") % {"n": data["crisis_pathway_uses"]})
    att = data["attendance"]
    lines.append(
        _("Attendance: %(a)s attended, %(b)s missed, %(c)s excused.")
        % {"a": att["attended"], "b": att["absent"], "c": att["excused"]}
    )
    if data["flags"]:
        lines.append(_("Open flags:"))
        lines.extend(f"- {f['why']}" for f in data["flags"])
    else:
        lines.append(_("No open flags."))
    return "\n".join(lines)
