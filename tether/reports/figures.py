"""Every figure of the reports, computed by the database: grouped aggregate queries,
never a loop over patients in Python.

Each table is one query (``sql.Query``): the rows it counts are built once as a derived
table (a CTE), and every grouping the table shows (by program, by clinician, by level of
care, by week, and the total) is a GROUP BY over those rows, joined with UNION ALL. So
the number of queries is fixed, and whatever is expensive per row (an episode's primary
therapist, its first and last PHQ-9) is computed once per row, never per aggregate.

The episodes of the scope (``ep_all``: the programs, open at some time in the period;
``ep``: narrowed to the chosen clinician) come from the ORM; so do the rows of each
other table (sessions, messages, flags...), with their filters. A clinician is the
episode's primary therapist (the care-team row with that role), except where the figure
is the clinician's own work: the pre-session review (the session's clinician) and
message replies (the author). Rows that name only the patient (homework, messages,
urgent requests) belong to the patient's latest episode in scope (``latest``). Episodes
are the unit: a patient readmitted within the period counts once per episode.
"""

# The SQL here is fixed text and compiled querysets; every outside value is a parameter.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from tether.accounts.models import Invite
from tether.checkins.models import Instrument, ProgramInstrument, Response
from tether.crisis.models import UrgentContactRequest
from tether.flags.models import Flag
from tether.homework.models import Assignment
from tether.messaging.models import Message, Thread
from tether.organizations.models import Program, StaffMember
from tether.patients.models import CareTeamMember, Episode, LevelOfCare
from tether.privacy.models import AuditEvent
from tether.privacy.policy import Category
from tether.reports.scope import Scope
from tether.reports.sql import (
    Query,
    Sql,
    V,
    aggregate,
    compiled,
    count,
    date_param,
    moment_param,
    roomy,
)
from tether.reports.tables import Column, Table
from tether.safetyplan.models import SafetyPlan, SafetyPlanVersion
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
PLANNED = sorted(Episode.PLANNED_ENDINGS)
NOT_UNPLANNED = [*PLANNED, ""]
ATTENDED = sorted(Attendance.ATTENDED_STATUSES)


def _in(values: Sequence[Any]) -> str:
    return "(" + ", ".join(["%s"] * len(values)) + ")"


def _primary_therapist(episode: str = "pk") -> Subquery:
    return Subquery(
        CareTeamMember.objects.filter(
            episode=OuterRef(episode), role=CareTeamMember.Role.PRIMARY_THERAPIST
        )
        # A current one (no end) first: PostgreSQL sorts empty values last by default.
        .order_by(F("ended_on").asc(nulls_first=True), "-started_on", "-pk")
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


def episode_ctes(scope: Scope) -> list[tuple[str, Sql]]:
    """``ep_all`` (the scope's episodes, one row each, with its primary therapist), ``ep``
    (narrowed to the chosen clinician), ``latest`` (each patient's latest episode in
    scope) and ``mine`` (those, narrowed to the chosen clinician)."""
    rows = (
        scope_episodes(scope, by_clinician=False)
        .values(
            ep=F("pk"),
            pat=F("patient_id"),
            prog=F("program_id"),
            lvl=F("level_of_care"),
            clin=F("clinician"),
            adm=F("admitted_on"),
            dis=F("discharged_on"),
            reason=F("discharge_reason"),
            uid=F("patient__user_id"),
            login=F("patient__user__last_login"),
        )
        .order_by()
    )
    chosen: Sql = ("", [])
    if scope.clinician_id is not None:
        chosen = (" WHERE clin = %s", [scope.clinician_id])
    return [
        ("ep_all", compiled(rows)),
        ("ep", ("SELECT * FROM ep_all" + chosen[0], chosen[1])),
        (
            "latest",
            (
                "SELECT pat, prog, clin FROM (SELECT pat, prog, clin, ROW_NUMBER() OVER "
                "(PARTITION BY pat ORDER BY adm DESC, ep DESC) AS rn FROM ep_all) ranked "
                "WHERE rn = 1",
                [],
            ),
        ),
        ("mine", ("SELECT * FROM latest" + chosen[0], chosen[1])),
    ]


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

    def label(self, grouping: str, key: str | None) -> str:
        if key is None or key == "":
            return NO_CLINICIAN
        if grouping == "level_of_care":
            return str(LevelOfCare(key).label)
        lookup = self.programs if grouping == "program" else self.clinicians
        return lookup.get(int(key), NO_CLINICIAN)


GROUP_LABELS = {
    "program": (_("Program"), _("by program")),
    "clinician": (_("Clinician"), _("by clinician")),
    "level_of_care": (_("Level of care"), _("by level of care")),
}
GROUP_COLUMNS = {"program": ["prog"], "clinician": ["clin"], "level_of_care": ["lvl"]}


def _groupings(*names: str, prefix: Sequence[str] = ()) -> dict[str, list[str]]:
    return {
        "total": [*prefix],
        **{name: [*prefix, *GROUP_COLUMNS[name]] for name in names},
    }


def _as_number(value: Any) -> Any:
    """Numbers from the database as int / float (PostgreSQL's AVG gives a Decimal)."""
    if value is None or isinstance(value, (int, float, str)):
        return value
    return float(value)


def _tables(
    *,
    key: str,
    title: str,
    what: str,
    results: dict[str, list[dict[str, Any]]],
    groupings: Sequence[str],
    columns: list[Column],
    names: Names,
    partitions: list[tuple[str, ...]] | None = None,
    derive: Callable[[dict[str, Any]], None] | None = None,
    note: str = "",
) -> list[Table]:
    """One table per grouping, each with the total row, from one ``Query.run``."""

    def clean(row: dict[str, Any]) -> dict[str, Any]:
        out = {k: _as_number(v) for k, v in row.items() if k != "keys"}
        if derive is not None:
            derive(out)
        return out

    total = clean(results["total"][0])
    tables = []
    for grouping in groupings:
        rows = [
            {"group": names.label(grouping, row["keys"][0]), **clean(row)}
            for row in results[grouping]
        ]
        rows.sort(key=lambda r: str(r["group"]))
        label, group_title = GROUP_LABELS[grouping]
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
    responses = Response._meta.db_table
    cutoff = moment_param(scope.end_at - ACTIVE_AFTER)
    after = ACTIVE_AFTER.total_seconds()
    ctes = [
        *episode_ctes(scope),
        ("admitted", ("SELECT * FROM ep WHERE adm >= %s", [date_param(scope.start)])),
        (
            "inv",
            (
                "SELECT user_id AS uid, MIN(created_at) AS invited_at, MIN(used_at) AS set_up_at "
                f"FROM {Invite._meta.db_table} WHERE user_id IN (SELECT uid FROM admitted) "
                "GROUP BY user_id",
                [],
            ),
        ),
        (
            # First and last completed check-in: "checked in 14 days after set-up" is
            # "the last one is 14 days after set-up". Two look-ups per episode in the
            # ``response_episode_completed`` index, never the episode's year of rows.
            "resp",
            (
                f"SELECT a.ep AS e, (SELECT MIN(r.submitted_at) FROM {responses} r "
                "WHERE r.episode_id = a.ep AND r.status = %s) AS first_at, "
                f"(SELECT MAX(r.submitted_at) FROM {responses} r "
                "WHERE r.episode_id = a.ep AND r.status = %s) AS last_at FROM admitted a",
                [Response.Status.COMPLETE, Response.Status.COMPLETE],
            ),
        ),
        (
            "base",
            (
                "SELECT a.prog, a.clin, a.login, inv.invited_at, inv.set_up_at, "
                "resp.first_at, resp.last_at FROM admitted a "
                "LEFT JOIN inv ON inv.uid = a.uid LEFT JOIN resp ON resp.e = a.ep",
                [],
            ),
        ),
    ]
    active = (
        f"set_up_at < %s AND ({V.seconds('login', 'set_up_at')} >= {after} "
        f"OR {V.seconds('last_at', 'set_up_at')} >= {after})"
    )
    query = Query(
        ctes=ctes,
        aggregates={
            "admitted": (count(), []),
            "invited": (count("invited_at IS NOT NULL"), []),
            "set_up": (count("set_up_at IS NOT NULL"), []),
            "checked_in": (count("first_at IS NOT NULL"), []),
            "eligible": (count("set_up_at < %s"), [cutoff]),
            "active": (count(active), [cutoff]),
            "days_to_set_up": (
                V.median(
                    V.seconds("set_up_at", "invited_at"),
                    "set_up_at IS NOT NULL AND invited_at IS NOT NULL",
                ),
                [],
            ),
            "days_to_check_in": (
                V.median(
                    V.seconds("first_at", "set_up_at"),
                    "first_at IS NOT NULL AND set_up_at IS NOT NULL",
                ),
                [],
            ),
        },
        groupings=_groupings("program", "clinician"),
    )

    def derive(row: dict[str, Any]) -> None:
        for key in ("days_to_set_up", "days_to_check_in"):
            if row.get(key) is not None:
                row[key] = row[key] / 86400

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
    return _tables(
        key="funnel",
        title=_("Onboarding"),
        what=_("Onboarding funnel of the episodes admitted in the period"),
        results=query.run(),
        groupings=("program", "clinician"),
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


def _weeks_cte(scope: Scope) -> tuple[str, Sql]:
    """One row per week the period touches: its Monday and Sunday, the first day of it
    in the period, and the moments it starts and ends within the period."""
    selects, params = [], []
    for monday in weeks_of(scope):
        first_day = max(monday, scope.start)
        next_monday = monday + dt.timedelta(days=7)
        from_at = timezone.make_aware(dt.datetime.combine(first_day, dt.time.min))
        to_at = min(
            timezone.make_aware(dt.datetime.combine(next_monday, dt.time.min)), scope.end_at
        )
        selects.append(
            "SELECT %s AS monday, %s AS sunday, %s AS first_day, %s AS from_at, %s AS to_at"
        )
        params += [
            date_param(monday),
            date_param(monday + dt.timedelta(days=6)),
            date_param(first_day),
            moment_param(from_at),
            moment_param(to_at),
        ]
    return ("weeks", (" UNION ALL ".join(selects), params))


def _active_in_week() -> Sql:
    """1 when the patient completed a check-in or wrote to the team that week: two
    index look-ups per patient-week in treatment (responses by patient, status and time;
    messages by thread and time), never a scan of the year's responses."""
    responses, messages = Response._meta.db_table, Message._meta.db_table
    threads = Thread._meta.db_table
    return (
        f"CASE WHEN EXISTS (SELECT 1 FROM {responses} r WHERE r.patient_id = ep.pat "
        "AND r.status = %s AND r.submitted_at >= weeks.from_at AND r.submitted_at < weeks.to_at) "
        f"OR EXISTS (SELECT 1 FROM {messages} m JOIN {threads} t ON t.id = m.thread_id "
        "WHERE t.patient_id = ep.pat AND m.author_kind = %s AND m.created_at >= weeks.from_at "
        "AND m.created_at < weeks.to_at) THEN 1 ELSE 0 END",
        [Response.Status.COMPLETE, Message.AuthorKind.PATIENT],
    )


def weekly_tables(scope: Scope, names: Names) -> list[Table]:
    """Week by week: the program(s) as a whole, then each program and each clinician
    (the trend of each), in one query whatever the number of weeks or groups."""
    weeks = weeks_of(scope)
    active_sql, active_params = _active_in_week()
    counted = Query(
        ctes=[
            *episode_ctes(scope),
            _weeks_cte(scope),
            (
                "base",
                (
                    # Narrow rows (the flags worked out here, not the dates and the
                    # reason): each grouping sorts all of them.
                    "SELECT weeks.monday, ep.pat, ep.prog, ep.clin, "
                    f"{active_sql} AS is_active, "
                    "CASE WHEN ep.adm >= weeks.first_day AND ep.adm <= weeks.sunday "
                    "THEN 1 ELSE 0 END AS admitted, "
                    "CASE WHEN ep.dis >= weeks.monday AND ep.dis <= weeks.sunday "
                    f"AND ep.reason NOT IN {_in(NOT_UNPLANNED)} THEN 1 ELSE 0 END AS unplanned "
                    "FROM ep JOIN weeks ON ep.adm <= weeks.sunday "
                    "AND (ep.dis IS NULL OR ep.dis >= weeks.monday)",
                    [*active_params, *NOT_UNPLANNED],
                ),
            ),
        ],
        aggregates={
            "in_treatment": (count(distinct="pat"), []),
            "active": (count("is_active = 1", distinct="pat"), []),
            "admitted": (count("admitted = 1"), []),
            "unplanned": (count("unplanned = 1"), []),
        },
        groupings=_groupings("program", "clinician", prefix=["monday"]),
    ).run()

    def keyed(
        results: dict[str, list[dict[str, Any]]], grouping: str
    ) -> dict[tuple[Any, ...], dict[str, Any]]:
        return {(_as_date(row["keys"][0]), *row["keys"][1:]): row for row in results[grouping]}

    by_week = keyed(counted, "total")
    rows = [
        {
            "group": monday.isoformat(),
            "in_treatment": by_week.get((monday,), {}).get("in_treatment", 0),
            "active": by_week.get((monday,), {}).get("active", 0),
            "admitted": by_week.get((monday,), {}).get("admitted", 0),
            "unplanned": by_week.get((monday,), {}).get("unplanned", 0),
        }
        for monday in weeks
    ]
    total = {
        "group": _("All weeks"),
        "in_treatment": None,
        "active": None,
        "admitted": sum(r["admitted"] for r in rows),
        "unplanned": sum(r["unplanned"] for r in rows),
    }
    tables = [
        Table(
            key="weekly",
            title=_("Week by week"),
            caption=_("Patients in treatment, active, admitted and discharged unplanned, per week"),
            columns=[
                Column("group", _("Week of"), kind="text"),
                *WEEKLY_COLUMNS,
            ],
            rows=rows,
            total=total,
            additive=("admitted", "unplanned"),
            note=_(
                "Active: completed a check-in or sent the care team a message that week. "
                "Sign-ins are not counted week by week: only the latest sign-in is stored."
            ),
        )
    ]
    for grouping in ("program", "clinician"):
        tables.append(_weekly_by(grouping, weeks, rows, counted, names, keyed))
    return tables


WEEKLY_COLUMNS = [
    Column("in_treatment", _("In treatment")),
    Column("active", _("Active (checked in or wrote)")),
    Column("active_rate", _("Active share"), "rate", "active", "in_treatment"),
    Column("admitted", _("Admitted")),
    Column("unplanned", _("Unplanned discharges")),
]


def _weekly_by(
    grouping: str,
    weeks: list[dt.date],
    week_rows: list[dict[str, Any]],
    counted: dict[str, list[dict[str, Any]]],
    names: Names,
    keyed: Callable[..., dict[tuple[Any, ...], dict[str, Any]]],
) -> Table:
    """Each group's trend: per week, one row per group and the week's own row (what the
    groups add up to, for the small-number rule: a block per week)."""
    counts = keyed(counted, grouping)
    groups = sorted(
        {key[1] for key in counts},
        key=lambda g: names.label(grouping, g),
    )
    rows: list[dict[str, Any]] = []
    blocks: list[tuple[int, ...]] = []
    for monday, week_row in zip(weeks, week_rows, strict=True):
        first = len(rows)
        for group in groups:
            found = counts.get((monday, group), {})
            row = {
                "week": monday.isoformat(),
                "group": names.label(grouping, group),
                "in_treatment": found.get("in_treatment", 0),
                "active": found.get("active", 0),
                "admitted": found.get("admitted", 0),
                "unplanned": found.get("unplanned", 0),
            }
            if any(row[k] for k in ("in_treatment", "active", "admitted", "unplanned")):
                rows.append(row)
        rows.append({**week_row, "week": week_row["group"], "group": _("All")})
        blocks.append(tuple(range(first, len(rows))))
    label, group_title = GROUP_LABELS[grouping]
    return Table(
        key=f"weekly-by-{grouping}",
        title=_("Week by week") + f" {group_title}",
        caption=_("Patients in treatment, active, admitted and discharged unplanned, per week")
        + f" {group_title}",
        columns=[
            Column("week", _("Week of"), kind="text"),
            Column("group", label, kind="text"),
            *WEEKLY_COLUMNS,
        ],
        rows=rows,
        total=None,
        additive=(),
        blocks=blocks,
        note=_(
            "Each week, one row per %(group)s and the week's row for all of them. A "
            "patient counts with the primary therapist of the episode (or, for a message, "
            "of their latest episode)."
        )
        % {"group": label.lower()},
    )


def weekly(scope: Scope) -> Table:
    return weekly_tables(scope, Names.for_scope(scope))[0]


# --- Check-ins, homework, safety plans -------------------------------------------------


def engagement(scope: Scope, names: Names) -> list[Table]:
    start, end = date_param(scope.start), date_param(scope.end)
    groupings = _groupings("program", "clinician")
    daily = ProgramInstrument._meta.db_table
    plans, versions = SafetyPlan._meta.db_table, SafetyPlanVersion._meta.db_table
    episodes = Query(
        ctes=[
            *episode_ctes(scope),
            (
                "base",
                (
                    # Days open in the period, both ends counted; in a program with an
                    # active daily check-in; with a safety plan.
                    "SELECT prog, clin, "
                    f"{V.days(V.least('COALESCE(dis, %s)', '%s'), V.greatest('adm', '%s'))} + 1 "
                    "AS days_open, "
                    f"CASE WHEN EXISTS (SELECT 1 FROM {daily} d WHERE d.program_id = ep.prog "
                    "AND d.schedule = %s AND d.is_active = %s) THEN 1 ELSE 0 END AS has_daily, "
                    f"CASE WHEN EXISTS (SELECT 1 FROM {versions} v JOIN {plans} p "
                    "ON p.id = v.plan_id WHERE p.patient_id = ep.pat) THEN 1 ELSE 0 END "
                    "AS has_plan FROM ep",
                    [end, end, start, ProgramInstrument.Schedule.DAILY, True],
                ),
            ),
        ],
        aggregates={
            "in_treatment": (count(), []),
            "days_due": (f"COALESCE({aggregate('SUM', 'days_open', 'has_daily = 1')}, 0)", []),
            "safety_plan": (count("has_plan = 1"), []),
        },
        groupings=groupings,
    ).run()
    done = Query(
        ctes=[
            *episode_ctes(scope),
            (
                # Days with a completed daily check-in in the period (two daily
                # instruments on one day: one day), per episode: a range of the
                # ``response_episode_completed`` index, never the episode's other rows.
                "base",
                (
                    "SELECT ep.prog, ep.clin, (SELECT COUNT(DISTINCT r.window) "
                    f"FROM {Response._meta.db_table} r WHERE r.episode_id = ep.ep "
                    "AND r.status = %s AND r.submitted_at >= %s AND r.submitted_at < %s "
                    "AND r.window LIKE %s) AS days FROM ep",
                    [
                        Response.Status.COMPLETE,
                        moment_param(scope.start_at),
                        moment_param(scope.end_at),
                        "daily:%",
                    ],
                ),
            ),
        ],
        aggregates={"days_done": ("COALESCE(SUM(days), 0)", [])},
        groupings=groupings,
    ).run()
    assignments = (
        Assignment.objects.filter(
            organization_id=scope.organization_id,
            due_on__gte=scope.start,
            due_on__lte=scope.end,
        )
        .annotate(
            done_flag=ExpressionWrapper(
                Q(status=Assignment.Status.DONE), output_field=BooleanField()
            ),
            late_flag=ExpressionWrapper(
                Q(status=Assignment.Status.DONE, completed_at__date__gt=F("due_on")),
                output_field=BooleanField(),
            ),
        )
        .values(pid=F("patient_id"), done=F("done_flag"), late=F("late_flag"))
        .order_by()
    )
    homework = Query(
        ctes=[
            *episode_ctes(scope),
            ("a", compiled(assignments)),
            (
                "base",
                (
                    "SELECT mine.prog, mine.clin, CASE WHEN a.done THEN 1 ELSE 0 END AS done, "
                    "CASE WHEN a.late THEN 1 ELSE 0 END AS late "
                    "FROM a JOIN mine ON mine.pat = a.pid",
                    [],
                ),
            ),
        ],
        aggregates={
            "homework_due": (count(), []),
            "homework_done": (count("done = 1"), []),
            "homework_late": (count("late = 1"), []),
        },
        groupings=groupings,
    ).run()
    tables = []
    for grouping in ("program", "clinician"):
        merged: dict[str, dict[str, Any]] = {}
        for part in (episodes, done, homework):
            for row in part[grouping]:
                merged.setdefault(names.label(grouping, row["keys"][0]), {}).update(
                    {k: _as_number(v) for k, v in row.items() if k != "keys"}
                )
        total: dict[str, Any] = {}
        for part in (episodes, done, homework):
            total.update({k: _as_number(v) for k, v in part["total"][0].items() if k != "keys"})
        rows = []
        for group, row in [*sorted(merged.items()), (_("All"), total)]:
            row = {"group": group, **row}
            for key in (
                "in_treatment",
                "days_due",
                "days_done",
                "safety_plan",
                "homework_due",
                "homework_done",
                "homework_late",
            ):
                row[key] = int(row.get(key) or 0)
            rows.append(row)
        label, group_title = GROUP_LABELS[grouping]
        tables.append(
            Table(
                key=f"engagement-by-{grouping}",
                title=_("Check-ins, homework and safety plans") + " " + group_title,
                caption=_("Between-session engagement") + " " + group_title,
                columns=[
                    Column("group", label, "text"),
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
        status__in=ATTENDED,
        appointment__kind__in=INDIVIDUAL_SESSIONS,
        appointment__is_cancelled=False,
        appointment__clinician__isnull=False,
        appointment__starts_at__gte=scope.start_at,
        appointment__starts_at__lt=scope.end_at,
    )
    if scope.clinician_id is not None:
        sessions = sessions.filter(appointment__clinician_id=scope.clinician_id)
    session_rows = sessions.values(
        sid=F("pk"),
        e=F("episode_id"),
        pid=F("patient_id"),
        staff=F("appointment__clinician_id"),
        who=F("appointment__clinician__user_id"),
        starts=F("appointment__starts_at"),
    ).order_by()
    opened = (
        AuditEvent.objects.filter(
            organization_id=scope.organization_id,
            object_type=PRE_SESSION_REVIEW,
            outcome=AuditEvent.Outcome.ALLOWED,
            occurred_at__gte=scope.start_at - REVIEW_WINDOW,
            occurred_at__lt=scope.end_at,
        )
        .values(pid=F("patient_id"), who=F("actor_id"), at=F("occurred_at"))
        .order_by()
    )
    window = REVIEW_WINDOW.total_seconds()
    gap = V.seconds("s.starts", "o.at")
    results = Query(
        ctes=[
            *episode_ctes(scope),
            ("s", compiled(session_rows)),
            ("o", compiled(opened)),
            (
                "reviewed",
                (
                    "SELECT DISTINCT s.sid FROM s JOIN o ON o.pid = s.pid AND o.who = s.who "
                    f"WHERE {gap} >= 0 AND {gap} <= {window}",
                    [],
                ),
            ),
            (
                "base",
                (
                    "SELECT ep_all.prog, s.staff AS clin, CASE WHEN reviewed.sid IS NULL "
                    "THEN 0 ELSE 1 END AS was_reviewed FROM s "
                    "JOIN ep_all ON ep_all.ep = s.e LEFT JOIN reviewed ON reviewed.sid = s.sid",
                    [],
                ),
            ),
        ],
        aggregates={"held": (count(), []), "reviewed": (count("was_reviewed = 1"), [])},
        groupings=_groupings("program", "clinician"),
    ).run()
    return _tables(
        key="review",
        title=_("Pre-session review"),
        what=_("Sessions held and reviewed beforehand"),
        results=results,
        groupings=("program", "clinician"),
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
    groupings = _groupings("program", "clinician")
    replies = (
        Message.objects.filter(
            author_kind=Message.AuthorKind.STAFF,
            response_seconds__isnull=False,
            created_at__gte=scope.start_at,
            created_at__lt=scope.end_at,
        )
        .values(pid=F("thread__patient_id"), writer=F("author_id"), secs=F("response_seconds"))
        .order_by()
    )
    chosen: Sql = ("", [])
    if scope.clinician_id is not None:
        chosen = (" WHERE staff.id = %s", [scope.clinician_id])
    messages = Query(
        ctes=[
            *episode_ctes(scope),
            ("m", compiled(replies)),
            (
                # The program of the patient's latest episode in scope, and its stated
                # time to answer; the clinician who replied.
                "base",
                (
                    "SELECT latest.prog, staff.id AS clin, m.secs, "
                    "p.message_response_hours * 3600 AS target FROM m "
                    "JOIN latest ON latest.pat = m.pid "
                    f"JOIN {Program._meta.db_table} p ON p.id = latest.prog "
                    f"LEFT JOIN {StaffMember._meta.db_table} staff ON staff.user_id = m.writer"
                    + chosen[0],
                    chosen[1],
                ),
            ),
        ],
        aggregates={
            "replies": (count(), []),
            "within_target": (count("secs <= target"), []),
            "median_hours": (V.median("secs"), []),
        },
        groupings=groupings,
    ).run()
    tables = _tables(
        key="messages",
        title=_("Message replies"),
        what=_("Time for the care team to answer a patient's message"),
        results=messages,
        groupings=("program", "clinician"),
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
    flag_rows = (
        Flag.objects.filter(raised_at__gte=scope.start_at, raised_at__lt=scope.end_at)
        .exclude(record_category=Category.PART2)
        .values(
            e=F("episode_id"),
            raised=F("raised_at"),
            ack=F("acknowledged_at"),
            state=F("status"),
        )
        .order_by()
    )
    flags = Query(
        ctes=[
            *episode_ctes(scope),
            ("f", compiled(flag_rows)),
            ("base", ("SELECT ep.prog, ep.clin, f.* FROM f JOIN ep ON ep.ep = f.e", [])),
        ],
        aggregates={
            "raised": (count(), []),
            "acknowledged": (count("ack IS NOT NULL"), []),
            "resolved": (count("state = %s"), [Flag.Status.CLOSED]),
            "hours_to_acknowledge": (
                V.median(V.seconds("ack", "raised"), "ack IS NOT NULL"),
                [],
            ),
        },
        groupings=groupings,
    ).run()
    tables += _tables(
        key="flags",
        title=_("Flags"),
        what=_("Flags raised, acknowledged and resolved"),
        results=flags,
        groupings=("program", "clinician"),
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
        derive=lambda row: row.update(
            hours_to_acknowledge=None
            if row.get("hours_to_acknowledge") is None
            else row["hours_to_acknowledge"] / 3600
        ),
    )
    urgent_rows = (
        UrgentContactRequest.objects.filter(
            organization_id=scope.organization_id,
            program_id__in=scope.program_ids,
            raised_at__gte=scope.start_at,
            raised_at__lt=scope.end_at,
        )
        .values(
            pid=F("patient_id"),
            prog=F("program_id"),
            raised=F("raised_at"),
            ack=F("acknowledged_at"),
            closed=F("closed_at"),
        )
        .order_by()
    )
    urgent_chosen: Sql = ("", [])
    if scope.clinician_id is not None:
        urgent_chosen = (" WHERE latest.clin = %s", [scope.clinician_id])
    urgent = Query(
        ctes=[
            *episode_ctes(scope),
            ("u", compiled(urgent_rows)),
            (
                "base",
                (
                    "SELECT u.*, latest.clin FROM u LEFT JOIN latest ON latest.pat = u.pid"
                    + urgent_chosen[0],
                    urgent_chosen[1],
                ),
            ),
        ],
        aggregates={
            "requests": (count(), []),
            "acknowledged": (count("ack IS NOT NULL"), []),
            "closed": (count("closed IS NOT NULL"), []),
            "minutes_to_acknowledge": (
                V.median(V.seconds("ack", "raised"), "ack IS NOT NULL"),
                [],
            ),
            "minutes_to_contact": (
                V.median(V.seconds("closed", "raised"), "closed IS NOT NULL"),
                [],
            ),
        },
        groupings=groupings,
    ).run()
    tables += _tables(
        key="urgent",
        title=_("Urgent requests"),
        what=_("Urgent contact requests and the time to answer them"),
        results=urgent,
        groupings=("program", "clinician"),
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
                k: None if row.get(k) is None else row[k] / 60
                for k in ("minutes_to_acknowledge", "minutes_to_contact")
            }
        ),
        note=_("By the patient's primary therapist."),
    )
    return tables


# --- Attendance, dropout, retention ------------------------------------------------------


def attendance(scope: Scope, names: Names) -> list[Table]:
    marks = (
        Attendance.objects.filter(
            appointment__is_cancelled=False,
            appointment__starts_at__gte=scope.start_at,
            appointment__starts_at__lt=scope.end_at,
        )
        .exclude(status=Attendance.Status.SCHEDULED)
        .values(e=F("episode_id"), state=F("status"))
        .annotate(n=Count("pk"))  # per episode and mark, then summed
        .order_by()
    )
    groupings = _groupings("program", "clinician")
    marked = Query(
        ctes=[
            *episode_ctes(scope),
            ("a", compiled(marks)),
            ("base", ("SELECT ep.prog, ep.clin, a.state, a.n FROM a JOIN ep ON ep.ep = a.e", [])),
        ],
        aggregates={
            "marked": ("COALESCE(SUM(n), 0)", []),
            "attended": (
                f"COALESCE({aggregate('SUM', 'n', f'state IN {_in(ATTENDED)}')}, 0)",
                ATTENDED,
            ),
            "no_show": (
                f"COALESCE({aggregate('SUM', 'n', 'state = %s')}, 0)",
                [Attendance.Status.ABSENT],
            ),
            "excused": (
                f"COALESCE({aggregate('SUM', 'n', 'state = %s')}, 0)",
                [Attendance.Status.EXCUSED],
            ),
        },
        groupings=groupings,
    ).run()
    tables = _tables(
        key="attendance",
        title=_("Attendance"),
        what=_("Sessions marked: attended, did not attend, excused"),
        results=marked,
        groupings=("program", "clinician"),
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
    start, end = date_param(scope.start), date_param(scope.end)
    in_period = "dis >= %s AND dis <= %s"
    dropout = Query(
        ctes=[*episode_ctes(scope)],
        aggregates={
            "admitted": (count("adm >= %s"), [start]),
            "discharged": (count(in_period), [start, end]),
            "planned": (count(f"{in_period} AND reason IN {_in(PLANNED)}"), [start, end, *PLANNED]),
            "unplanned": (
                count(f"{in_period} AND reason NOT IN {_in(NOT_UNPLANNED)}"),
                [start, end, *NOT_UNPLANNED],
            ),
            "no_reason": (count(f"{in_period} AND reason = ''"), [start, end]),
        },
        groupings=groupings,
        source="ep",
    ).run()
    tables += _tables(
        key="dropout",
        title=_("Admissions and discharges"),
        what=_("Admissions, and discharges by kind of ending"),
        results=dropout,
        groupings=("program", "clinician"),
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
    aggregates: dict[str, Sql] = {}
    for week in range(RETENTION_WEEKS + 1):
        last_admission = date_param(scope.end - dt.timedelta(weeks=week))
        aggregates[f"observed_{week}"] = (count("adm <= %s"), [last_admission])
        aggregates[f"retained_{week}"] = (
            count(f"adm <= %s AND (dis IS NULL OR stay >= {week * 7} OR reason IN {_in(PLANNED)})"),
            [last_admission, *PLANNED],
        )
    counts = Query(
        ctes=[
            *episode_ctes(scope),
            (
                "base",
                (
                    f"SELECT adm, dis, reason, {V.days('dis', 'adm')} AS stay FROM ep "
                    "WHERE adm >= %s",
                    [date_param(scope.start)],
                ),
            ),
        ],
        aggregates=aggregates,
        groupings={"total": []},
    ).run()["total"][0]
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


MEASURES = ("phq9", "gad7")


@dataclass(frozen=True)
class Thresholds:
    """Caseness and reliable change of the PHQ-9 and GAD-7, read from the instrument
    definitions (instruments/*.json, from ../shared/reference/clinical.md): never
    written here."""

    phq_caseness: int
    phq_reliable: int
    gad_caseness: int
    gad_reliable: int
    # Every version's id of each instrument (responses to an older version count too).
    versions: dict[str, tuple[int, ...]]

    @classmethod
    def current(cls) -> Thresholds:
        specs = {}
        versions: dict[str, tuple[int, ...]] = {code: () for code in MEASURES}
        for instrument in Instrument.objects.filter(code__in=MEASURES):
            versions[instrument.code] += (instrument.pk,)
            if instrument.is_current:
                specs[instrument.code] = instrument.spec
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
            versions=versions,
        )


def _measures_ctes(scope: Scope, episodes: str, t: Thresholds) -> list[tuple[str, Sql]]:
    """Per episode of ``episodes``: its first and last PHQ-9 and GAD-7 total before the
    end of the period (ordered by time, then id), and whether there are two of each
    (the first is not the last).

    Four index look-ups per episode, never a pass over the responses: each walks the
    episode's responses to that instrument in time order (the index on episode,
    instrument and time, ``response_episode_instrument_scores``) to the
    first completed one. (With two versions of an instrument the look-up reads all of
    the episode's responses to either: right, slower.)"""
    responses = Response._meta.db_table
    end = moment_param(scope.end_at)

    def probe(code: str, order: str) -> Sql:
        # The instrument's versions as values (not a subquery), so the look-up is an
        # ordered walk of the index that stops at the first completed response.
        ids = t.versions[code] or (0,)
        return (
            f"(SELECT r.id FROM {responses} r WHERE r.episode_id = x.ep "
            f"AND r.instrument_id IN {_in(ids)} AND r.status = %s AND r.total IS NOT NULL "
            f"AND r.submitted_at < %s ORDER BY r.submitted_at {order}, r.id {order} LIMIT 1)",
            [*ids, Response.Status.COMPLETE, end],
        )

    firsts_and_lasts = [
        (alias, probe(code, order))
        for alias, code, order in (
            ("phq_a", "phq9", "ASC"),
            ("phq_z", "phq9", "DESC"),
            ("gad_a", "gad7", "ASC"),
            ("gad_z", "gad7", "DESC"),
        )
    ]
    ids_sql = ", ".join(f"{text} AS {alias}" for alias, (text, _) in firsts_and_lasts)
    ids_params = [p for _, (_, params) in firsts_and_lasts for p in params]

    def total(alias: str) -> str:
        return f"(SELECT t.total FROM {responses} t WHERE t.id = ids.{alias})"

    return [
        ("ids", (f"SELECT x.ep AS e, {ids_sql} FROM {episodes} x", ids_params)),
        (
            "per",
            (
                f"SELECT e, {total('phq_a')} AS phq_first, {total('phq_z')} AS phq_last, "
                f"{total('gad_a')} AS gad_first, {total('gad_z')} AS gad_last, "
                "CASE WHEN phq_a IS NULL THEN 0 WHEN phq_a = phq_z THEN 1 ELSE 2 END AS phq_n, "
                "CASE WHEN gad_a IS NULL THEN 0 WHEN gad_a = gad_z THEN 1 ELSE 2 END AS gad_n "
                "FROM ids",
                [],
            ),
        ),
    ]


def outcomes(
    scope: Scope, names: Names, *, at_discharge: bool, thresholds: Thresholds | None = None
) -> list[Table]:
    """For episodes with a baseline PHQ-9 or GAD-7: how many have a second of each
    (paired), and of those the IAPT outcomes; the last observation before the end of the
    period, or (``at_discharge``) episodes discharged in the period, at discharge."""
    t = thresholds or Thresholds.current()
    scoped: Sql = ("SELECT * FROM ep", [])
    if at_discharge:
        scoped = (
            "SELECT * FROM ep WHERE dis >= %s AND dis <= %s",
            [date_param(scope.start), date_param(scope.end)],
        )
    ctes = [
        *episode_ctes(scope),
        ("scoped", scoped),
        *_measures_ctes(scope, "scoped", t),
        (
            "base",
            (
                "SELECT s.prog, s.lvl, s.clin, per.phq_first, per.phq_last, per.gad_first, "
                "per.gad_last, COALESCE(per.phq_n, 0) AS phq_n, COALESCE(per.gad_n, 0) AS gad_n, "
                "per.phq_last - per.phq_first AS phq_change, "
                "per.gad_last - per.gad_first AS gad_change "
                "FROM scoped s LEFT JOIN per ON per.e = s.ep",
                [],
            ),
        ),
    ]
    paired = "phq_n >= 2 AND gad_n >= 2"
    caseness = f"(phq_first >= {t.phq_caseness} OR gad_first >= {t.gad_caseness})"
    below_at_end = f"(phq_last < {t.phq_caseness} AND gad_last < {t.gad_caseness})"
    drop = f"(phq_change <= -{t.phq_reliable} OR gad_change <= -{t.gad_reliable})"
    rise = f"(phq_change >= {t.phq_reliable} OR gad_change >= {t.gad_reliable})"
    improved = f"{paired} AND {drop} AND NOT {rise}"
    recovered = f"{paired} AND {caseness} AND {below_at_end}"
    query = Query(
        ctes=ctes,
        aggregates={
            "with_baseline": (count("phq_first IS NOT NULL OR gad_first IS NOT NULL"), []),
            "paired": (count(paired), []),
            "at_caseness": (count(f"{paired} AND {caseness}"), []),
            "recovered": (count(recovered), []),
            "improved": (count(improved), []),
            "reliably_recovered": (count(f"{recovered} AND {drop} AND NOT {rise}"), []),
            "deteriorated": (count(f"{paired} AND {rise} AND NOT {drop}"), []),
            "phq_mean": (aggregate("AVG", "phq_change", paired), []),
            # Mean square, for the standard deviation (no STDDEV aggregate on SQLite).
            "phq_sq": (aggregate("AVG", "phq_change * phq_change", paired), []),
            "gad_mean": (aggregate("AVG", "gad_change", paired), []),
            "gad_sq": (aggregate("AVG", "gad_change * gad_change", paired), []),
        },
        groupings=_groupings("program", "level_of_care", "clinician"),
    )

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
    return _tables(
        key="outcomes-discharge" if at_discharge else "outcomes",
        title=_("Outcomes") + f" ({basis})",
        what=_("PHQ-9 and GAD-7 outcomes") + f" ({basis})",
        results=query.run(),
        groupings=("program", "level_of_care", "clinician"),
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
    return [*funnel(scope, names), *weekly_tables(scope, names)]


def _attendance(scope: Scope, names: Names) -> list[Table]:
    return [*attendance(scope, names), retention(scope)]


def _outcomes(scope: Scope, names: Names) -> list[Table]:
    thresholds = Thresholds.current()
    return [
        *outcomes(scope, names, at_discharge=False, thresholds=thresholds),
        *outcomes(scope, names, at_discharge=True, thresholds=thresholds),
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


def section_tables(scope: Scope, section: str, names: Names | None = None) -> list[Table]:
    """One section's tables; ``names`` read once per page (the page's every section
    shares them)."""
    with roomy():
        return BUILDERS[section](scope, names or Names.for_scope(scope))


def all_tables(scope: Scope) -> dict[str, list[Table]]:
    """Every table of the dashboard, by section, before suppression."""
    names = Names.for_scope(scope)
    with roomy():
        return {section: build(scope, names) for section, build in BUILDERS.items()}
