"""The caseload board: a clinician's patients with what they need before a session,
in a fixed number of queries whatever the caseload (every column is a subquery)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from tether.accounts.models import User
from tether.checkins.models import Response
from tether.flags.models import Flag
from tether.flags.selectors import without_hidden_part2
from tether.homework.models import Assignment
from tether.messaging.models import Thread
from tether.privacy.gate import patients_visible_to
from tether.privacy.policy import Action, Category
from tether.scheduling.models import Attendance

SORTS: dict[str, list[Any]] = {
    "sessions": [
        F("soon").asc(),
        F("next_session_at").asc(nulls_last=True),
        "last_name",
        "first_name",
    ],
    "name": ["last_name", "first_name"],
    "flags": [F("open_flags").desc(), F("top_severity").desc(nulls_last=True), "last_name"],
    "phq9": [F("phq9_latest").desc(nulls_last=True), "last_name"],
    "checkin": [F("last_checkin_at").asc(nulls_first=True), "last_name"],
    "login": [F("last_login").asc(nulls_first=True), "last_name"],
}


def _readable_responses(user: User) -> QuerySet[Response]:
    """Check-ins the user may read: self-report, and Part 2 ones (a substance-use
    program's) only for patients whose Part 2 record the gate opens to this user."""
    part2 = patients_visible_to(user, category=Category.PART2, action=Action.VIEW)
    return Response.objects.filter(
        Q(record_category=Category.SELF_REPORT.value)
        | Q(record_category=Category.PART2.value, patient__in=part2.values("pk"))
    )


def _scores(readable: QuerySet[Response], code: str, offset: int) -> Subquery:
    rows = readable.filter(
        patient=OuterRef("pk"),
        episode__status="active",
        instrument__code=code,
        status=Response.Status.COMPLETE,
        total__isnull=False,
    ).order_by("-submitted_at", "-pk")
    return Subquery(rows.values("total")[offset : offset + 1])


def _count(qs: QuerySet[Any], field: str = "patient") -> Coalesce:
    counted = (
        qs.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def caseload_for(
    *, user: User, sort: str = "sessions", now: dt.datetime | None = None
) -> list[Any]:
    """The patients whose self-report this user may see, with the board's columns."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    day_after_tomorrow = timezone.make_aware(
        dt.datetime.combine(today + dt.timedelta(days=2), dt.time.min)
    )
    next_session = Attendance.objects.filter(
        patient=OuterRef("pk"),
        appointment__starts_at__gte=now,
        appointment__is_cancelled=False,
    ).order_by("appointment__starts_at")
    readable = _readable_responses(user)
    checkins = readable.filter(patient=OuterRef("pk"), status=Response.Status.COMPLETE).order_by(
        "-submitted_at"
    )
    due = Assignment.objects.filter(due_on__lte=today, due_on__gte=today - dt.timedelta(days=28))
    open_flags = without_hidden_part2(Flag.objects.filter(status=Flag.Status.OPEN), user=user)
    thread = Thread.objects.filter(patient=OuterRef("pk"))
    shared = patients_visible_to(user, category=Category.SHARED, action=Action.VIEW)
    rows = (
        patients_visible_to(user, category=Category.SELF_REPORT, action=Action.VIEW)
        .annotate(
            next_session_at=Subquery(next_session.values("appointment__starts_at")[:1]),
            last_checkin_at=Subquery(checkins.values("submitted_at")[:1]),
            phq9_latest=_scores(readable, "phq9", 0),
            phq9_previous=_scores(readable, "phq9", 1),
            gad7_latest=_scores(readable, "gad7", 0),
            gad7_previous=_scores(readable, "gad7", 1),
            homework_due=_count(due),
            homework_done=_count(due.filter(status=Assignment.Status.DONE)),
            open_flags=_count(open_flags),
            top_severity=Subquery(
                open_flags.filter(patient=OuterRef("pk"))
                .order_by()
                .values("patient")
                .annotate(m=Max("severity"))
                .values("m")[:1]
            ),
            unread=Case(
                When(
                    Q(pk__in=shared.values("pk"))
                    & Exists(
                        thread.filter(last_patient_message_at__isnull=False).filter(
                            Q(team_read_at__isnull=True)
                            | Q(team_read_at__lt=F("last_patient_message_at"))
                        )
                    ),
                    then=Value(1),
                ),
                default=Value(0),
                output_field=IntegerField(),
            ),
            last_login=Subquery(
                User.objects.filter(pk=OuterRef("user_id")).values("last_login")[:1]
            ),
            # Whether the row shows Part 2 records (scores or flags labelled so), for the
            # category of the list's audit rows.
            shows_part2=Exists(
                readable.filter(patient=OuterRef("pk"), record_category=Category.PART2.value)
            )
            | Exists(
                open_flags.filter(patient=OuterRef("pk"), record_category=Category.PART2.value)
            ),
        )
        .annotate(
            soon=Case(
                When(next_session_at__lt=day_after_tomorrow, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by(*SORTS.get(sort, SORTS["sessions"]))
    )
    result: list[Any] = list(rows)
    for row in result:
        row.session_day = _day(row.next_session_at, today)
        row.phq9_trend = _trend(row.phq9_latest, row.phq9_previous)
        row.gad7_trend = _trend(row.gad7_latest, row.gad7_previous)
    return result


@dataclass(frozen=True)
class Trend:
    arrow: str
    label: str


def _trend(latest: int | None, previous: int | None) -> Trend | None:
    from django.utils.translation import gettext as _

    if latest is None or previous is None:
        return None
    if latest > previous:
        return Trend("↑", _("higher than last time (worse)"))
    if latest < previous:
        return Trend("↓", _("lower than last time (better)"))
    return Trend("→", _("same as last time"))


def _day(when: dt.datetime | None, today: dt.date) -> str:
    if when is None:
        return ""
    day = timezone.localdate(when)
    if day == today:
        return "today"
    if day == today + dt.timedelta(days=1):
        return "tomorrow"
    return ""


def is_clinical(user: User) -> bool:
    from tether.flags.selectors import _is_clinical

    return _is_clinical(user)
