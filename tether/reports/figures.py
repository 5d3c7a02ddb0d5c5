"""Every figure of the reports, computed by the database: grouped aggregate queries,
never a loop over patients in Python.

Each figure set is one base queryset (episodes, sessions, messages, flags...) narrowed
to the scope, and a dict of aggregates; ``_grouped`` runs it three times: grouped by
program, grouped by clinician, and once for the total. A clinician is the episode's
primary therapist (the care-team row with that role), except where the figure is the
clinician's own work: the pre-session review (the session's clinician) and message
replies (the author). Episodes are the unit: a patient readmitted within the period
counts once per episode.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import (
    Avg,
    CharField,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Concat, Greatest, Least, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from tether.accounts.models import Invite
from tether.checkins.models import Instrument, ProgramInstrument, Response
from tether.crisis.models import UrgentContactRequest
from tether.flags.models import Flag
from tether.homework.models import Assignment
from tether.messaging.models import Message
from tether.organizations.models import Program, StaffMember
from tether.patients.models import CareTeamMember, Episode, LevelOfCare
from tether.privacy.models import AuditEvent
from tether.privacy.policy import Category
from tether.reports.aggregates import Median
from tether.reports.scope import Scope
from tether.reports.tables import Column, Table
from tether.safetyplan.models import SafetyPlanVersion
from tether.scheduling.models import Appointment, Attendance
from tether.staff.review import PRE_SESSION_REVIEW

REVIEW_WINDOW = dt.timedelta(hours=24)
ACTIVE_AFTER = dt.timedelta(days=14)
RETENTION_WEEKS = 12
INDIVIDUAL_SESSIONS = (
    Appointment.Kind.INDIVIDUAL,
    Appointment.Kind.FAMILY,
    Appointment.Kind.PSYCHIATRY,
)
NO_CLINICIAN = "—"


def _primary_therapist(episode: str = "pk") -> Subquery:
    return Subquery(
        CareTeamMember.objects.filter(
            episode=OuterRef(episode), role=CareTeamMember.Role.PRIMARY_THERAPIST
        )
        .order_by("ended_on", "-started_on", "-pk")  # a current one (no end) first
        .values("staff_member_id")[:1]
    )


def scope_episodes(scope: Scope, *, by_clinician: bool = True) -> QuerySet[Episode]:
    """Episodes of the scope's programs open at some time in the period."""
    episodes = (
        Episode.objects.filter(
            organization_id=scope.organization_id,
            program_id__in=scope.program_ids,
            admitted_on__lte=scope.end,
        )
        .filter(Q(discharged_on__isnull=True) | Q(discharged_on__gte=scope.start))
        .annotate(clinician=_primary_therapist())
    )
    if by_clinician and scope.clinician_id is not None:
        episodes = episodes.filter(clinician=scope.clinician_id)
    return episodes


def _episode_of(scope: Scope, patient: str, field: str) -> Subquery:
    """A field of the patient's (latest) episode in scope, for rows that name only the
    patient (homework, messages, urgent requests)."""
    return Subquery(
        scope_episodes(scope, by_clinician=False)
        .filter(patient=OuterRef(patient))
        .order_by("-admitted_on", "-pk")
        .values(field)[:1]
    )


@dataclass(frozen=True)
class Names:
    programs: dict[int, str]
    clinicians: dict[int, str]

    @classmethod
    def for_scope(cls, scope: Scope) -> Names:
        programs = dict(
            Program.objects.filter(organization_id=scope.organization_id).values_list("pk", "name")
        )
        clinicians = {
            pk: f"{first} {last}".strip()
            for pk, first, last in StaffMember.objects.filter(
                organization_id=scope.organization_id
            ).values_list("pk", "user__first_name", "user__last_name")
        }
        return cls(programs, clinicians)


GROUPINGS = {
    "program": _("program"),
    "clinician": _("clinician"),
}


def _normalise(row: dict[str, Any]) -> dict[str, Any]:
    """Durations to hours (the columns say their unit); None counts stay None."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dt.timedelta):
            value = value.total_seconds() / 3600
        out[key] = value
    return out


def _grouped(
    *,
    key: str,
    title: str,
    what: str,
    queryset: QuerySet[Any],
    groups: dict[str, Any],
    aggregates: dict[str, Any],
    columns: list[Column],
    names: Names,
    partitions: list[tuple[str, ...]] | None = None,
    derive: Callable[[dict[str, Any]], None] | None = None,
    note: str = "",
) -> list[Table]:
    """One table per grouping (``groups``: name → expression of the group's id), each
    with the total row: one query per grouping and one for the total."""
    total = _normalise(queryset.aggregate(**aggregates))
    if derive is not None:
        derive(total)
    tables = []
    for grouping, expression in groups.items():
        rows = []
        lookup = names.programs if grouping == "program" else names.clinicians
        for row in (
            queryset.annotate(group_id=expression)
            .values("group_id")
            .annotate(**aggregates)
            .order_by("group_id")
        ):
            row = _normalise(row)
            if derive is not None:
                derive(row)
            group_id = row.pop("group_id")
            if grouping == "level_of_care":
                label = str(LevelOfCare(group_id).label) if group_id else NO_CLINICIAN
            else:
                label = lookup.get(group_id, NO_CLINICIAN) if group_id else NO_CLINICIAN
            rows.append({"group": label, **row})
        rows.sort(key=lambda r: str(r["group"]))
        label = {
            "program": _("Program"),
            "clinician": _("Clinician"),
            "level_of_care": _("Level of care"),
        }[grouping]
        group_title = {
            "program": _("by program"),
            "clinician": _("by clinician"),
            "level_of_care": _("by level of care"),
        }[grouping]
        tables.append(
            Table(
                key=f"{key}-by-{grouping.replace('_', '-')}",
                title=f"{title} {group_title}",
                caption=f"{what} {group_title}",
                columns=[Column("group", label, kind="text"), *columns],
                rows=rows,
                total={"group": _("All"), **total},
                partitions=list(partitions or []),
                note=note,
            )
        )
    return tables


# --- Onboarding funnel -----------------------------------------------------------------


def funnel(scope: Scope, names: Names) -> list[Table]:
    """Episodes admitted in the period: invited → set up → first check-in → active."""
    cutoff = scope.end_at - ACTIVE_AFTER
    episodes = (
        scope_episodes(scope)
        .filter(admitted_on__gte=scope.start)
        .annotate(
            invited_at=Subquery(
                Invite.objects.filter(user_id=OuterRef("patient__user_id"))
                .order_by("created_at")
                .values("created_at")[:1]
            ),
            set_up_at=Subquery(
                Invite.objects.filter(user_id=OuterRef("patient__user_id"), used_at__isnull=False)
                .order_by("used_at")
                .values("used_at")[:1]
            ),
            first_checkin_at=Subquery(
                Response.objects.filter(episode=OuterRef("pk"), status=Response.Status.COMPLETE)
                .order_by("submitted_at")
                .values("submitted_at")[:1]
            ),
        )
        .annotate(
            checked_in_later=Exists(
                Response.objects.filter(
                    episode=OuterRef("pk"),
                    status=Response.Status.COMPLETE,
                    submitted_at__gte=OuterRef("set_up_at") + ACTIVE_AFTER,
                )
            )
        )
    )
    eligible = Q(set_up_at__lt=cutoff)
    aggregates = {
        "admitted": Count("pk"),
        "invited": Count("pk", filter=Q(invited_at__isnull=False)),
        "set_up": Count("pk", filter=Q(set_up_at__isnull=False)),
        "checked_in": Count("pk", filter=Q(first_checkin_at__isnull=False)),
        "eligible": Count("pk", filter=eligible),
        "active": Count(
            "pk",
            filter=eligible
            & (
                Q(patient__user__last_login__gte=F("set_up_at") + ACTIVE_AFTER)
                | Q(checked_in_later=True)
            ),
        ),
        "days_to_set_up": Median(
            ExpressionWrapper(F("set_up_at") - F("invited_at"), output_field=DurationField()),
            duration=True,
            filter=Q(set_up_at__isnull=False, invited_at__isnull=False),
        ),
        "days_to_check_in": Median(
            ExpressionWrapper(F("first_checkin_at") - F("set_up_at"), output_field=DurationField()),
            duration=True,
            filter=Q(first_checkin_at__isnull=False, set_up_at__isnull=False),
        ),
    }

    def derive(row: dict[str, Any]) -> None:
        for key in ("days_to_set_up", "days_to_check_in"):
            if row.get(key) is not None:
                row[key] = row[key] / 24

    columns = [
        Column("admitted", _("Admitted")),
        Column("invited", _("Invited")),
        Column("set_up", _("Account set up")),
        Column("set_up_rate", _("Set up, of invited"), "rate", "set_up", "invited"),
        Column("checked_in", _("First check-in")),
        Column("checked_in_rate", _("Checked in, of set up"), "rate", "checked_in", "set_up"),
        Column("eligible", _("Set up 14+ days before the end")),
        Column("active", _("Still active after 14 days")),
        Column("active_rate", _("Active, of those"), "rate", "active", "eligible"),
        Column("days_to_set_up", _("Median days, invite to set up"), "days", base="set_up"),
        Column(
            "days_to_check_in",
            _("Median days, set up to first check-in"),
            "days",
            base="checked_in",
        ),
    ]
    return _grouped(
        key="funnel",
        title=_("Onboarding"),
        what=_("Onboarding funnel of the episodes admitted in the period"),
        queryset=episodes,
        groups={"program": F("program_id"), "clinician": F("clinician")},
        aggregates=aggregates,
        columns=columns,
        names=names,
        derive=derive,
        note=_(
            "Still active: signed in, or completed a check-in, 14 days or more after "
            "setting up the account; counted over those set up at least 14 days before "
            "the end of the period."
        ),
    )


# --- Week by week ------------------------------------------------------------------------


def weeks_of(scope: Scope) -> list[dt.date]:
    """The Mondays of the weeks the period touches."""
    first = scope.start - dt.timedelta(days=scope.start.weekday())
    return [first + dt.timedelta(weeks=i) for i in range((scope.end - first).days // 7 + 1)]


def _as_date(value: Any) -> dt.date:
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value).date()
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value  # type: ignore[no-any-return]


def _active_by_week(scope: Scope, episodes: QuerySet[Episode]) -> dict[dt.date, int]:
    """Patients who completed a check-in or wrote to the team, per week: one query
    (a UNION of the two tables, counted distinct by the database)."""
    responses = (
        Response.objects.filter(
            episode__in=episodes.values("pk"),
            status=Response.Status.COMPLETE,
            submitted_at__gte=scope.start_at,
            submitted_at__lt=scope.end_at,
        )
        .annotate(pid=F("patient_id"), week=TruncWeek("submitted_at"))
        .values("pid", "week")
        .order_by()
    )
    messages = (
        Message.objects.filter(
            thread__patient__in=episodes.values("patient_id"),
            author_kind=Message.AuthorKind.PATIENT,
            created_at__gte=scope.start_at,
            created_at__lt=scope.end_at,
        )
        .annotate(pid=F("thread__patient_id"), week=TruncWeek("created_at"))
        .values("pid", "week")
        .order_by()
    )
    r_sql, r_params = responses.query.sql_with_params()
    m_sql, m_params = messages.query.sql_with_params()
    sql = (
        "SELECT u.week, COUNT(DISTINCT u.pid) FROM "  # noqa: S608 - both parts are compiled querysets
        f"({r_sql} UNION {m_sql}) u GROUP BY u.week"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*r_params, *m_params))
        return {_as_date(week): count for week, count in cursor.fetchall()}


def weekly(scope: Scope) -> Table:
    episodes = scope_episodes(scope)
    weeks = weeks_of(scope)
    aggregates: dict[str, Any] = {}
    for i, monday in enumerate(weeks):
        sunday = monday + dt.timedelta(days=6)
        in_week = Q(admitted_on__lte=sunday) & (
            Q(discharged_on__isnull=True) | Q(discharged_on__gte=monday)
        )
        aggregates[f"in_treatment_{i}"] = Count("patient", distinct=True, filter=in_week)
        aggregates[f"admitted_{i}"] = Count(
            "pk", filter=Q(admitted_on__gte=max(monday, scope.start), admitted_on__lte=sunday)
        )
        aggregates[f"unplanned_{i}"] = Count(
            "pk",
            filter=Q(discharged_on__gte=monday, discharged_on__lte=sunday)
            & ~Q(discharge_reason__in=[*Episode.PLANNED_ENDINGS, ""]),
        )
    counts = episodes.aggregate(**aggregates)
    active = _active_by_week(scope, episodes)
    rows = [
        {
            "group": monday.isoformat(),
            "in_treatment": counts[f"in_treatment_{i}"],
            "active": active.get(monday, 0),
            "admitted": counts[f"admitted_{i}"],
            "unplanned": counts[f"unplanned_{i}"],
        }
        for i, monday in enumerate(weeks)
    ]
    total = {
        "group": _("All weeks"),
        "in_treatment": None,
        "active": None,
        "admitted": sum(r["admitted"] for r in rows),
        "unplanned": sum(r["unplanned"] for r in rows),
    }
    return Table(
        key="weekly",
        title=_("Week by week"),
        caption=_("Patients in treatment, active, admitted and discharged unplanned, per week"),
        columns=[
            Column("group", _("Week of"), kind="text"),
            Column("in_treatment", _("In treatment")),
            Column("active", _("Active (checked in or wrote)")),
            Column("active_rate", _("Active share"), "rate", "active", "in_treatment"),
            Column("admitted", _("Admitted")),
            Column("unplanned", _("Unplanned discharges")),
        ],
        rows=rows,
        total=total,
        additive=("admitted", "unplanned"),
        note=_(
            "Active: completed a check-in or sent the care team a message that week. "
            "Sign-ins are not counted week by week: only the latest sign-in is stored."
        ),
    )


# --- Check-ins, homework, safety plans -------------------------------------------------


def _days_in_period(scope: Scope) -> ExpressionWrapper[Any]:
    return ExpressionWrapper(
        Least(Coalesce("discharged_on", Value(scope.end)), Value(scope.end))
        - Greatest("admitted_on", Value(scope.start)),
        output_field=DurationField(),
    )


def engagement(scope: Scope, names: Names) -> list[Table]:
    episodes = scope_episodes(scope).annotate(
        has_daily=Exists(
            ProgramInstrument.objects.filter(
                program=OuterRef("program"),
                schedule=ProgramInstrument.Schedule.DAILY,
                is_active=True,
            )
        ),
        has_plan=Exists(SafetyPlanVersion.objects.filter(plan__patient=OuterRef("patient"))),
    )
    episode_tables = _grouped(
        key="episodes",
        title="",
        what="",
        queryset=episodes,
        groups={"program": F("program_id"), "clinician": F("clinician")},
        aggregates={
            "in_treatment": Count("pk"),
            # Days from the first to the last day in the period, plus one each (below).
            "days_due": Sum(_days_in_period(scope), filter=Q(has_daily=True)),
            "daily_episodes": Count("pk", filter=Q(has_daily=True)),
            "safety_plan": Count("pk", filter=Q(has_plan=True)),
        },
        columns=[],
        names=names,
    )
    responses = Response.objects.filter(
        episode__in=scope_episodes(scope).values("pk"),
        status=Response.Status.COMPLETE,
        window__startswith="daily:",
        submitted_at__gte=scope.start_at,
        submitted_at__lt=scope.end_at,
    )
    response_tables = _grouped(
        key="responses",
        title="",
        what="",
        queryset=responses,
        groups={"program": F("episode__program_id"), "clinician": _primary_therapist("episode")},
        aggregates={
            # Days with a completed daily check-in (two daily instruments on one day: one day).
            "days_done": Count(
                Concat(Cast("episode_id", CharField()), Value(":"), "window"), distinct=True
            )
        },
        columns=[],
        names=names,
    )
    homework = Assignment.objects.filter(
        organization_id=scope.organization_id,
        due_on__gte=scope.start,
        due_on__lte=scope.end,
    ).annotate(
        episode_program=_episode_of(scope, "patient", "program_id"),
        episode_clinician=_episode_of(scope, "patient", "clinician"),
    )
    homework = homework.filter(episode_program__isnull=False)
    if scope.clinician_id is not None:
        homework = homework.filter(episode_clinician=scope.clinician_id)
    homework_tables = _grouped(
        key="homework",
        title="",
        what="",
        queryset=homework,
        groups={"program": F("episode_program"), "clinician": F("episode_clinician")},
        aggregates={
            "homework_due": Count("pk"),
            "homework_done": Count("pk", filter=Q(status=Assignment.Status.DONE)),
            "homework_late": Count(
                "pk",
                filter=Q(status=Assignment.Status.DONE, completed_at__date__gt=F("due_on")),
            ),
        },
        columns=[],
        names=names,
    )
    tables = []
    for grouping_index, grouping in enumerate(("program", "clinician")):
        merged: dict[str, dict[str, Any]] = {}
        for part in (episode_tables, response_tables, homework_tables):
            for row in part[grouping_index].rows:
                merged.setdefault(row["group"], {}).update(row)
        total: dict[str, Any] = {}
        for part in (episode_tables, response_tables, homework_tables):
            total.update(part[grouping_index].total or {})
        rows = []
        for row in [*sorted(merged.values(), key=lambda r: str(r["group"])), total]:
            days = row.get("days_due")
            row["days_due"] = (
                round(days / 24) + row.pop("daily_episodes", 0)
                if days is not None
                else row.pop("daily_episodes", 0)
            )
            for key in ("in_treatment", "days_done", "safety_plan", "homework_due"):
                row.setdefault(key, 0)
            row.setdefault("homework_done", 0)
            row.setdefault("homework_late", 0)
            rows.append(row)
        tables.append(
            Table(
                key=f"engagement-by-{grouping}",
                title=_("Check-ins, homework and safety plans")
                + " "
                + (_("by program") if grouping == "program" else _("by clinician")),
                caption=_("Between-session engagement")
                + " "
                + (_("by program") if grouping == "program" else _("by clinician")),
                columns=[
                    Column(
                        "group", _("Program") if grouping == "program" else _("Clinician"), "text"
                    ),
                    Column("in_treatment", _("Episodes in treatment")),
                    Column("days_due", _("Daily check-ins due (patient-days)")),
                    Column("days_done", _("Daily check-ins answered")),
                    Column(
                        "checkin_rate", _("Check-in completion"), "rate", "days_done", "days_due"
                    ),
                    Column("homework_due", _("Homework due")),
                    Column("homework_done", _("Homework done")),
                    Column(
                        "homework_rate",
                        _("Homework completion"),
                        "rate",
                        "homework_done",
                        "homework_due",
                    ),
                    Column("homework_late", _("Done after the due day")),
                    Column("safety_plan", _("With a safety plan")),
                    Column(
                        "plan_rate", _("Safety plan kept"), "rate", "safety_plan", "in_treatment"
                    ),
                ],
                rows=rows[:-1],
                total=rows[-1],
                note=_(
                    "Check-ins due: each day an episode was open in the period, in programs "
                    "with a daily check-in. Homework: assignments due in the period."
                ),
            )
        )
    return tables


# --- Pre-session review ----------------------------------------------------------------


def review(scope: Scope, names: Names) -> list[Table]:
    """Sessions held with one clinician (individual, family, medication) where that
    clinician opened the patient's pre-session review in the 24 hours before."""
    sessions = Attendance.objects.filter(
        episode__in=scope_episodes(scope, by_clinician=False).values("pk"),
        status__in=list(Attendance.ATTENDED_STATUSES),
        appointment__kind__in=INDIVIDUAL_SESSIONS,
        appointment__is_cancelled=False,
        appointment__clinician__isnull=False,
        appointment__starts_at__gte=scope.start_at,
        appointment__starts_at__lt=scope.end_at,
    )
    reviewed = Exists(
        AuditEvent.objects.filter(
            patient=OuterRef("patient"),
            actor_id=OuterRef("appointment__clinician__user_id"),
            object_type=PRE_SESSION_REVIEW,
            outcome=AuditEvent.Outcome.ALLOWED,
            occurred_at__gte=OuterRef("appointment__starts_at") - REVIEW_WINDOW,
            occurred_at__lte=OuterRef("appointment__starts_at"),
        )
    )
    if scope.clinician_id is not None:
        sessions = sessions.filter(appointment__clinician_id=scope.clinician_id)
    return _grouped(
        key="review",
        title=_("Pre-session review"),
        what=_("Sessions held and reviewed beforehand"),
        queryset=sessions,
        groups={"program": F("episode__program_id"), "clinician": F("appointment__clinician_id")},
        aggregates={
            "held": Count("pk"),
            "reviewed": Count("pk", filter=Q(reviewed)),
        },
        columns=[
            Column("held", _("Sessions held")),
            Column("reviewed", _("Review opened in the 24 hours before")),
            Column("review_rate", _("Pre-session review rate"), "rate", "reviewed", "held"),
        ],
        names=names,
        note=_(
            "Individual, family and medication sessions the patient attended. Opening the "
            "pre-session review is recorded in the audit trail as its own event; here a "
            "session counts as reviewed when its clinician opened that patient's review in "
            "the 24 hours before it started."
        ),
    )


# --- Responsiveness: messages, flags, urgent requests -------------------------------


def responsiveness(scope: Scope, names: Names) -> list[Table]:
    episodes = scope_episodes(scope, by_clinician=False)
    replies = Message.objects.filter(
        thread__patient__in=episodes.values("patient_id"),
        author_kind=Message.AuthorKind.STAFF,
        response_seconds__isnull=False,
        created_at__gte=scope.start_at,
        created_at__lt=scope.end_at,
    ).annotate(
        episode_program=_episode_of(scope, "thread__patient", "program_id"),
        target_seconds=_episode_of(scope, "thread__patient", "program__message_response_hours")
        * 3600,
    )
    if scope.clinician_id is not None:
        replies = replies.filter(author__staff_member__id=scope.clinician_id)
    tables = _grouped(
        key="messages",
        title=_("Message replies"),
        what=_("Time for the care team to answer a patient's message"),
        queryset=replies,
        groups={"program": F("episode_program"), "clinician": F("author__staff_member__id")},
        aggregates={
            "replies": Count("pk"),
            "within_target": Count("pk", filter=Q(response_seconds__lte=F("target_seconds"))),
            "median_hours": Median("response_seconds"),
        },
        columns=[
            Column("replies", _("Replies")),
            Column("within_target", _("Within the program's stated time")),
            Column("within_rate", _("Share within"), "rate", "within_target", "replies"),
            Column("median_hours", _("Median hours to reply"), "hours", base="replies"),
        ],
        names=names,
        derive=lambda row: row.update(
            median_hours=None if row.get("median_hours") is None else row["median_hours"] / 3600
        ),
        note=_("By the clinician who replied."),
    )
    flags = Flag.objects.filter(
        episode__in=scope_episodes(scope).values("pk"),
        raised_at__gte=scope.start_at,
        raised_at__lt=scope.end_at,
    ).exclude(record_category=Category.PART2)
    tables += _grouped(
        key="flags",
        title=_("Flags"),
        what=_("Flags raised, acknowledged and resolved"),
        queryset=flags,
        groups={"program": F("episode__program_id"), "clinician": _primary_therapist("episode")},
        aggregates={
            "raised": Count("pk"),
            "acknowledged": Count("pk", filter=Q(acknowledged_at__isnull=False)),
            "resolved": Count("pk", filter=Q(status=Flag.Status.CLOSED)),
            "hours_to_acknowledge": Median(
                ExpressionWrapper(
                    F("acknowledged_at") - F("raised_at"), output_field=DurationField()
                ),
                duration=True,
                filter=Q(acknowledged_at__isnull=False),
            ),
        },
        columns=[
            Column("raised", _("Raised")),
            Column("acknowledged", _("Acknowledged")),
            Column("resolved", _("Resolved")),
            Column("resolved_rate", _("Share resolved"), "rate", "resolved", "raised"),
            Column(
                "hours_to_acknowledge",
                _("Median hours to acknowledge"),
                "hours",
                base="acknowledged",
            ),
        ],
        names=names,
    )
    urgent = UrgentContactRequest.objects.filter(
        organization_id=scope.organization_id,
        program_id__in=scope.program_ids,
        raised_at__gte=scope.start_at,
        raised_at__lt=scope.end_at,
    ).annotate(episode_clinician=_episode_of(scope, "patient", "clinician"))
    if scope.clinician_id is not None:
        urgent = urgent.filter(episode_clinician=scope.clinician_id)
    tables += _grouped(
        key="urgent",
        title=_("Urgent requests"),
        what=_("Urgent contact requests and the time to answer them"),
        queryset=urgent,
        groups={"program": F("program_id"), "clinician": F("episode_clinician")},
        aggregates={
            "requests": Count("pk"),
            "acknowledged": Count("pk", filter=Q(acknowledged_at__isnull=False)),
            "closed": Count("pk", filter=Q(closed_at__isnull=False)),
            "minutes_to_acknowledge": Median(
                ExpressionWrapper(
                    F("acknowledged_at") - F("raised_at"), output_field=DurationField()
                ),
                duration=True,
                filter=Q(acknowledged_at__isnull=False),
            ),
            "minutes_to_contact": Median(
                ExpressionWrapper(F("closed_at") - F("raised_at"), output_field=DurationField()),
                duration=True,
                filter=Q(closed_at__isnull=False),
            ),
        },
        columns=[
            Column("requests", _("Requests")),
            Column("acknowledged", _("Acknowledged")),
            Column("closed", _("Contact documented")),
            Column(
                "minutes_to_acknowledge",
                _("Median minutes to acknowledge"),
                "minutes",
                base="acknowledged",
            ),
            Column(
                "minutes_to_contact",
                _("Median minutes to documented contact"),
                "minutes",
                base="closed",
            ),
        ],
        names=names,
        derive=lambda row: row.update(
            {
                k: None if row.get(k) is None else row[k] * 60
                for k in ("minutes_to_acknowledge", "minutes_to_contact")
            }
        ),
        note=_("By the patient's primary therapist."),
    )
    return tables


# --- Attendance, dropout, retention ------------------------------------------------------


def attendance(scope: Scope, names: Names) -> list[Table]:
    marks = Attendance.objects.filter(
        episode__in=scope_episodes(scope).values("pk"),
        appointment__is_cancelled=False,
        appointment__starts_at__gte=scope.start_at,
        appointment__starts_at__lt=scope.end_at,
    ).exclude(status=Attendance.Status.SCHEDULED)
    tables = _grouped(
        key="attendance",
        title=_("Attendance"),
        what=_("Sessions marked: attended, did not attend, excused"),
        queryset=marks,
        groups={"program": F("episode__program_id"), "clinician": _primary_therapist("episode")},
        aggregates={
            "marked": Count("pk"),
            "attended": Count("pk", filter=Q(status__in=list(Attendance.ATTENDED_STATUSES))),
            "no_show": Count("pk", filter=Q(status=Attendance.Status.ABSENT)),
            "excused": Count("pk", filter=Q(status=Attendance.Status.EXCUSED)),
        },
        columns=[
            Column("marked", _("Places marked")),
            Column("attended", _("Attended")),
            Column("attended_rate", _("Attendance rate"), "rate", "attended", "marked"),
            Column("no_show", _("Did not attend")),
            Column("no_show_rate", _("No-show rate"), "rate", "no_show", "marked"),
            Column("excused", _("Excused")),
        ],
        names=names,
        partitions=[("attended", "no_show", "excused", "marked")],
    )
    episodes = scope_episodes(scope)
    in_period = Q(discharged_on__gte=scope.start, discharged_on__lte=scope.end)
    tables += _grouped(
        key="dropout",
        title=_("Admissions and discharges"),
        what=_("Admissions, and discharges by kind of ending"),
        queryset=episodes,
        groups={"program": F("program_id"), "clinician": F("clinician")},
        aggregates={
            "admitted": Count("pk", filter=Q(admitted_on__gte=scope.start)),
            "discharged": Count("pk", filter=in_period),
            "planned": Count(
                "pk", filter=in_period & Q(discharge_reason__in=list(Episode.PLANNED_ENDINGS))
            ),
            "unplanned": Count(
                "pk",
                filter=in_period & ~Q(discharge_reason__in=[*Episode.PLANNED_ENDINGS, ""]),
            ),
            "no_reason": Count("pk", filter=in_period & Q(discharge_reason="")),
        },
        columns=[
            Column("admitted", _("Admitted")),
            Column("discharged", _("Discharged")),
            Column("planned", _("Planned endings")),
            Column("unplanned", _("Unplanned endings (dropout)")),
            Column("no_reason", _("No reason recorded")),
            Column("dropout_rate", _("Unplanned, of admissions"), "rate", "unplanned", "admitted"),
        ],
        names=names,
        partitions=[("planned", "unplanned", "no_reason", "discharged")],
        note=_(
            "Planned: completed treatment or stepped down. Unplanned: left against advice, "
            "stopped attending, transferred to a higher level of care, administrative "
            "discharge, and older codes for leaving early."
        ),
    )
    return tables


def retention(scope: Scope) -> Table:
    """Of the episodes admitted in the period, the share still in treatment (or ended as
    planned) each week after admission, counted over those admitted long enough ago."""
    episodes = (
        scope_episodes(scope)
        .filter(admitted_on__gte=scope.start)
        .annotate(
            stay=ExpressionWrapper(
                F("discharged_on") - F("admitted_on"), output_field=DurationField()
            )
        )
    )
    aggregates: dict[str, Any] = {}
    for week in range(RETENTION_WEEKS + 1):
        offset = dt.timedelta(weeks=week)
        observable = Q(admitted_on__lte=scope.end - offset)
        aggregates[f"observed_{week}"] = Count("pk", filter=observable)
        aggregates[f"retained_{week}"] = Count(
            "pk",
            filter=observable
            & (
                Q(discharged_on__isnull=True)
                | Q(stay__gte=offset)
                | Q(discharge_reason__in=list(Episode.PLANNED_ENDINGS))
            ),
        )
    counts = episodes.aggregate(**aggregates)
    rows = [
        {
            "group": str(week),
            "observed": counts[f"observed_{week}"],
            "retained": counts[f"retained_{week}"],
        }
        for week in range(RETENTION_WEEKS + 1)
    ]
    return Table(
        key="retention",
        title=_("Retention by week since admission"),
        caption=_("Episodes still in treatment, or ended as planned, each week after admission"),
        columns=[
            Column("group", _("Weeks since admission"), "text"),
            Column("observed", _("Admitted that long before the end")),
            Column("retained", _("Still in treatment or ended as planned")),
            Column("retained_rate", _("Retained"), "rate", "retained", "observed"),
        ],
        rows=rows,
        total=None,
    )


# --- Outcomes (NHS Talking Therapies conventions) ---------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """Caseness and reliable change of the PHQ-9 and GAD-7, read from the instrument
    definitions (instruments/*.json, from ../shared/reference/clinical.md): never
    written here."""

    phq_caseness: int
    phq_reliable: int
    gad_caseness: int
    gad_reliable: int

    @classmethod
    def current(cls) -> Thresholds:
        specs = {
            i.code: i.spec
            for i in Instrument.objects.filter(code__in=["phq9", "gad7"], is_current=True)
        }
        phq, gad = specs["phq9"], specs["gad7"]
        if None in (phq.caseness_at, phq.reliable_change, gad.caseness_at, gad.reliable_change):
            raise ValueError(
                "PHQ-9 and GAD-7 need caseness and reliable change in their definitions"
            )
        return cls(
            phq_caseness=int(phq.caseness_at or 0),
            phq_reliable=int(phq.reliable_change or 0),
            gad_caseness=int(gad.caseness_at or 0),
            gad_reliable=int(gad.reliable_change or 0),
        )


def _measure(scope: Scope, code: str, *, first: bool) -> Subquery:
    return Subquery(
        Response.objects.filter(
            episode=OuterRef("pk"),
            instrument__code=code,
            status=Response.Status.COMPLETE,
            total__isnull=False,
            submitted_at__lt=scope.end_at,
        )
        .order_by("submitted_at" if first else "-submitted_at", "pk" if first else "-pk")
        .values("total")[:1],
        output_field=IntegerField(),
    )


def _measure_count(scope: Scope, code: str) -> Coalesce:
    return Coalesce(
        Subquery(
            Response.objects.filter(
                episode=OuterRef("pk"),
                instrument__code=code,
                status=Response.Status.COMPLETE,
                total__isnull=False,
                submitted_at__lt=scope.end_at,
            )
            .order_by()
            .values("episode")
            .annotate(n=Count("pk"))
            .values("n"),
            output_field=IntegerField(),
        ),
        0,
    )


def outcomes(scope: Scope, names: Names, *, at_discharge: bool) -> list[Table]:
    """For episodes with a baseline PHQ-9 or GAD-7: how many have a second of each
    (paired), and of those the IAPT outcomes; the last observation before the end of the
    period, or (``at_discharge``) episodes discharged in the period, at discharge."""
    t = Thresholds.current()
    episodes = scope_episodes(scope)
    if at_discharge:
        episodes = episodes.filter(discharged_on__gte=scope.start, discharged_on__lte=scope.end)
    episodes = episodes.annotate(
        phq_first=_measure(scope, "phq9", first=True),
        phq_last=_measure(scope, "phq9", first=False),
        gad_first=_measure(scope, "gad7", first=True),
        gad_last=_measure(scope, "gad7", first=False),
        phq_n=_measure_count(scope, "phq9"),
        gad_n=_measure_count(scope, "gad7"),
    ).annotate(
        phq_change=ExpressionWrapper(F("phq_last") - F("phq_first"), output_field=IntegerField()),
        gad_change=ExpressionWrapper(F("gad_last") - F("gad_first"), output_field=IntegerField()),
    )
    paired = Q(phq_n__gte=2, gad_n__gte=2)
    caseness = Q(phq_first__gte=t.phq_caseness) | Q(gad_first__gte=t.gad_caseness)
    below_at_end = Q(phq_last__lt=t.phq_caseness, gad_last__lt=t.gad_caseness)
    reliable_drop = Q(phq_change__lte=-t.phq_reliable) | Q(gad_change__lte=-t.gad_reliable)
    reliable_rise = Q(phq_change__gte=t.phq_reliable) | Q(gad_change__gte=t.gad_reliable)
    improved = paired & reliable_drop & ~reliable_rise
    recovered = paired & caseness & below_at_end
    aggregates = {
        "with_baseline": Count(
            "pk", filter=Q(phq_first__isnull=False) | Q(gad_first__isnull=False)
        ),
        "paired": Count("pk", filter=paired),
        "at_caseness": Count("pk", filter=paired & caseness),
        "recovered": Count("pk", filter=recovered),
        "improved": Count("pk", filter=improved),
        "reliably_recovered": Count("pk", filter=recovered & improved),
        "deteriorated": Count("pk", filter=paired & reliable_rise & ~reliable_drop),
        "phq_mean": Avg("phq_change", filter=paired),
        # Mean square, for the standard deviation (no STDDEV aggregate on SQLite that
        # copes with one value).
        "phq_sq": Avg(F("phq_change") * F("phq_change"), filter=paired),
        "gad_mean": Avg("gad_change", filter=paired),
        "gad_sq": Avg(F("gad_change") * F("gad_change"), filter=paired),
    }

    def derive(row: dict[str, Any]) -> None:
        row["no_second"] = (row.get("with_baseline") or 0) - (row.get("paired") or 0)
        n = row.get("paired") or 0
        for measure in ("phq", "gad"):
            mean, square = row.pop(f"{measure}_mean", None), row.pop(f"{measure}_sq", None)
            row[f"{measure}_change"] = None if mean is None else float(mean)
            half = None
            if mean is not None and square is not None and n >= 2:
                variance = max(float(square) - float(mean) ** 2, 0.0) * n / (n - 1)
                half = 1.96 * (variance / n) ** 0.5
            row[f"{measure}_ci_low"] = None if half is None else float(mean) - half
            row[f"{measure}_ci_high"] = None if half is None else float(mean) + half

    basis = _("at discharge") if at_discharge else _("last observation")
    return _grouped(
        key="outcomes-discharge" if at_discharge else "outcomes",
        title=_("Outcomes") + f" ({basis})",
        what=_("PHQ-9 and GAD-7 outcomes") + f" ({basis})",
        queryset=episodes,
        groups={
            "program": F("program_id"),
            "level_of_care": F("level_of_care"),
            "clinician": F("clinician"),
        },
        aggregates=aggregates,
        columns=[
            Column("with_baseline", _("With a first measure")),
            Column("paired", _("With a second PHQ-9 and GAD-7")),
            Column("no_second", _("No second measure")),
            Column("at_caseness", _("At caseness at the start")),
            Column("recovered", _("Recovered")),
            Column("recovery_rate", _("Recovery rate"), "rate", "recovered", "at_caseness"),
            Column("improved", _("Reliable improvement")),
            Column("improved_rate", _("Reliable improvement rate"), "rate", "improved", "paired"),
            Column("reliably_recovered", _("Reliable recovery")),
            Column(
                "reliable_recovery_rate",
                _("Reliable recovery rate"),
                "rate",
                "reliably_recovered",
                "at_caseness",
            ),
            Column("deteriorated", _("Reliable deterioration")),
            Column(
                "deteriorated_rate",
                _("Reliable deterioration rate"),
                "rate",
                "deteriorated",
                "paired",
            ),
            Column("phq_change", _("Mean PHQ-9 change"), "mean", base="paired"),
            Column("phq_ci_low", _("PHQ-9 95% CI, low"), "mean", base="paired"),
            Column("phq_ci_high", _("PHQ-9 95% CI, high"), "mean", base="paired"),
            Column("gad_change", _("Mean GAD-7 change"), "mean", base="paired"),
            Column("gad_ci_low", _("GAD-7 95% CI, low"), "mean", base="paired"),
            Column("gad_ci_high", _("GAD-7 95% CI, high"), "mean", base="paired"),
        ],
        names=names,
        partitions=[("paired", "no_second", "with_baseline")],
        derive=derive,
        note=_(
            "NHS Talking Therapies conventions, thresholds from the instrument definitions: "
            "caseness PHQ-9 %(pc)s or more, or GAD-7 %(gc)s or more; reliable change %(pr)s "
            "(PHQ-9) and %(gr)s (GAD-7) points. First and last measure of the episode. "
            "Recovery and reliable recovery are counted over those at caseness at the start; "
            "reliable improvement and deterioration over all with both measures twice. "
            "Confidence intervals: mean ± 1.96 standard errors (normal approximation)."
        )
        % {"pc": t.phq_caseness, "gc": t.gad_caseness, "pr": t.phq_reliable, "gr": t.gad_reliable},
    )


# --- Everything ---------------------------------------------------------------------------

SECTIONS = (
    ("adoption", _("Adoption")),
    ("engagement", _("Between sessions")),
    ("review", _("Pre-session review")),
    ("responsiveness", _("Responsiveness")),
    ("attendance", _("Attendance and dropout")),
    ("outcomes", _("Outcomes")),
)


def _adoption(scope: Scope, names: Names) -> list[Table]:
    return [*funnel(scope, names), weekly(scope)]


def _attendance(scope: Scope, names: Names) -> list[Table]:
    return [*attendance(scope, names), retention(scope)]


def _outcomes(scope: Scope, names: Names) -> list[Table]:
    return [
        *outcomes(scope, names, at_discharge=False),
        *outcomes(scope, names, at_discharge=True),
    ]


BUILDERS: dict[str, Callable[[Scope, Names], list[Table]]] = {
    "adoption": _adoption,
    "engagement": engagement,
    "review": review,
    "responsiveness": responsiveness,
    "attendance": _attendance,
    "outcomes": _outcomes,
}
# Which section makes each table (for one table's CSV: only its section is computed).
TABLE_PREFIXES = {
    "funnel": "adoption",
    "weekly": "adoption",
    "engagement": "engagement",
    "review": "review",
    "messages": "responsiveness",
    "flags": "responsiveness",
    "urgent": "responsiveness",
    "attendance": "attendance",
    "dropout": "attendance",
    "retention": "attendance",
    "outcomes": "outcomes",
}


def section_of(table_key: str) -> str | None:
    return TABLE_PREFIXES.get(table_key.split("-")[0])


def section_tables(scope: Scope, section: str) -> list[Table]:
    return BUILDERS[section](scope, Names.for_scope(scope))


def all_tables(scope: Scope) -> dict[str, list[Table]]:
    """Every table of the dashboard, by section, before suppression."""
    names = Names.for_scope(scope)
    return {section: build(scope, names) for section, build in BUILDERS.items()}
