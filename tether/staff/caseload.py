"""The caseload board: a clinician's patients with what they need before a session,
in a fixed number of queries whatever the caseload (every column is a subquery).

At a program's size (a lead sees thousands of patients) the board is paged
(``PER_PAGE``) and built in two steps: the gate's patient sets are read once, as id
lists, then the order is computed for every visible patient with only the sort's own
columns, and the board's columns for the one page shown. No column nests the gate's
subqueries (they made PostgreSQL estimate the board at 10^10 and spend seconds in its
JIT: docs/BENCHMARKS.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.db.models.lookups import IsNull
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from tether.accounts.models import User
from tether.checkins.models import Instrument, Response
from tether.flags.models import Flag, Severity, awake
from tether.homework.models import Assignment
from tether.homework.selectors import counted_assignments, counted_between, window_bounds
from tether.lib import statements
from tether.lib.statements import AnyOf
from tether.lib.urls import per_id
from tether.messaging.models import Thread
from tether.patients.models import Episode, Patient
from tether.privacy.gate import (
    KeptVisible,
    kept_visible,
    own_visible_ids,
    patients_visible_to,
    sees_a_program,
    visible_among,
)
from tether.privacy.policy import Action, Category
from tether.scheduling.models import Attendance
from tether.staff.selectors import PatientList

SORTS: dict[str, list[Any]] = {
    # The next session first (today's and tomorrow's come first by themselves), then
    # those with none booked; then by name.
    "sessions": [F("next_session_at").asc(nulls_last=True), "last_name", "first_name"],
    "name": ["last_name", "first_name"],
    "flags": [F("open_flags").desc(), F("top_severity").desc(nulls_last=True), "last_name"],
    "phq9": [F("phq9_latest").desc(nulls_last=True), "last_name"],
    "checkin": [F("last_checkin_at").asc(nulls_first=True), "last_name"],
    "login": [F("last_login").asc(nulls_first=True), "last_name"],
}


PER_PAGE = 60
# Up to this many visible patients (a clinician's caseload) the sessions order looks up
# each patient's next session by its own attendance (an index read per patient); above
# it (a lead's program) one grouped read of all upcoming sessions is cheaper.
PER_ROW_ORDER_LIMIT = 1000


# A set of patient ids read from the gate (a page's few), or the gate's own set as a
# subquery (``patients_visible_to(...).values("pk")``: PostgreSQL hashes it once per query).
PatientIds = Collection[int] | QuerySet[Any]


def _among(field: str, ids: PatientIds) -> Q:
    """``field`` is one of ``ids``: the gate's set as a subquery, or a page's few ids as
    one array parameter (``statements.AnyOf``: the statement's text does not change
    with how many there are)."""
    if isinstance(ids, QuerySet):
        return Q(**{f"{field}__in": ids})
    return Q(AnyOf(F(field), sorted(ids)))


def _readable_responses(part2_ids: PatientIds) -> QuerySet[Response]:
    """Check-ins the user may read: self-report, and Part 2 ones (a substance-use
    program's) only for patients whose Part 2 record the gate opens to this user
    (``part2_ids``: from the gate)."""
    return Response.objects.filter(
        Q(record_category=Category.SELF_REPORT.value)
        | (Q(record_category=Category.PART2.value) & _among("patient", part2_ids))
    )


def _visible(user: User, category: Category) -> QuerySet[Patient]:
    return patients_visible_to(user, category=category, action=Action.VIEW)


def _in_care(today: dt.date) -> Q:
    """On the board: patients in care now, or discharged and still inside their episode's
    access after discharge (``access_until``: the aftercare plan, the final measures,
    messages to the team). A care team keeps its access after a discharge, so without
    this a clinician's board gathered every patient they ever discharged, and grew with
    each week of a program's history. Their records stay where they were: the patient
    list, the review and the record, through the gate as before. (Not asked for a lead,
    on call or the front desk: a program's relation is to its active episodes; their own
    care-team patients, if any, are shown as before.)"""
    current = Episode.objects.filter(patient=OuterRef("pk")).filter(
        Q(status=Episode.Status.ACTIVE) | Q(access_until__gte=today)
    )
    return Q(Exists(current))


@dataclass
class CaseloadPage:
    rows: list[Any]
    number: int
    pages: int
    total: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def _scores(readable: QuerySet[Response], instruments: list[int] | int, offset: int) -> Subquery:
    return Subquery(_scores_newest_first(readable, instruments)[offset : offset + 1])


def _scores_newest_first(
    readable: QuerySet[Response], instruments: list[int] | int
) -> QuerySet[Response, Any]:
    # The instrument's ids as values, so the lookup runs on the index
    # response_latest_by_instrument (patient, instrument, newest first). One version (an
    # int, the usual case) is an equality: the index then walks the patient's scores
    # newest first and stops at the first; an array (``= ANY``) makes PostgreSQL 15 read
    # and sort all of them (the board's four score columns were 20 of its rows' 28 ms).
    if isinstance(instruments, int):
        instrument = Q(instrument_id=instruments)
    elif len(instruments) == 1:
        instrument = Q(instrument_id=instruments[0])
    else:
        instrument = Q(AnyOf(F("instrument_id"), instruments))
    rows = readable.filter(
        instrument,
        patient=OuterRef("pk"),
        episode__status="active",
        status=Response.Status.COMPLETE,
        total__isnull=False,
    ).order_by("-submitted_at", "-pk")
    return rows.values("total")


def _array_of(*expressions: Any) -> Func:
    """``ARRAY[a, b, …]`` of integer expressions (PostgreSQL)."""
    return Func(
        *expressions,
        function="ARRAY",
        template="%(function)s[%(expressions)s]",
        output_field=ArrayField(IntegerField()),
    )


def _per_patient(qs: QuerySet[Any], expression: Any, output_field: Any) -> Subquery:
    """``expression`` aggregated over the row's patient's rows of ``qs``: NULL when the
    patient has none."""
    aggregated = (
        qs.filter(patient=OuterRef("pk"))
        .order_by()
        .values("patient")
        .annotate(aggregate=expression)
        .values("aggregate")[:1]
    )
    return Subquery(aggregated, output_field=output_field)


def _counts(qs: QuerySet[Any], *expressions: Any) -> Subquery:
    """The patient's rows of ``qs`` aggregated as one array (``_array_of``): NULL when
    the patient has none. One index read for columns that were each their own."""
    return _per_patient(qs, _array_of(*expressions), ArrayField(IntegerField()))


def _count(qs: QuerySet[Any]) -> Coalesce:
    return Coalesce(_per_patient(qs, Count("pk"), IntegerField()), Value(0))


def caseload_for(
    *, user: User, sort: str = "sessions", now: dt.datetime | None = None
) -> list[Any]:
    """Every patient whose self-report this user may see, with the board's columns
    (unpaged: for one clinician's caseload and tests; the board uses ``caseload_page``)."""
    return caseload_page(user=user, sort=sort, now=now, per_page=None).rows


def caseload_page(
    *,
    user: User,
    sort: str = "sessions",
    page: int | str | None = 1,
    now: dt.datetime | None = None,
    per_page: int | None = PER_PAGE,
) -> CaseloadPage:
    """One page of the board, in a fixed number of queries whatever the caseload: the
    count of the visible patients, the page's ids in the sort's order (ordered and cut
    in SQL, the gate's set a subquery or its ids), the user's relations to the page's
    patients (``gate.visible_among``: which of them the gate opens Part 2 and shared
    records of; remembered for the list's audit rows), and the page's rows. Nothing
    reads every visible patient into Python."""
    now = now or timezone.now()
    sort = sort if sort in SORTS else "sessions"
    # A caseload (a person's own patients, a few ids): every one of them in the sort's
    # order in one kept statement, counted and cut here.
    whole = _caseload_order(user, sort=sort, now=now)
    if whole is None:
        # Otherwise counted and ordered in SQL (``visible`` is read only then, below).
        visible = _visible(user, Category.SELF_REPORT)
        if not sees_a_program(user):
            # A program's relation is to its active episodes already; asking every one of
            # a lead's 10,000 patients again cost ~5 ms a page.
            visible = visible.filter(_in_care(timezone.localdate(now)))
            total = visible.count()
        else:
            # A program's patients: counted by a statement kept compiled, the gate's set
            # as the patient list counts it.
            total = PatientList(user, category=Category.SELF_REPORT).count()
    else:
        total = len(whole)
    size = per_page or max(total, 1)
    pages = max(1, -(-total // size))
    try:
        number = min(max(int(page or 1), 1), pages)
    except (TypeError, ValueError):
        number = 1
    start = (number - 1) * size
    # The sessions order reads each shown patient's next session: kept for the rows.
    next_sessions: dict[int, dt.datetime | None] | None = None
    if not total:
        shown: list[int] = []
    elif whole is not None:
        cut = whole[start : start + size]
        shown = [pk for pk, _ in cut]
        if sort == "sessions":
            next_sessions = dict(cut)
    elif sort == "sessions":
        # (Patients are visible only within the user's organization: the gate.)
        if total > PER_ROW_ORDER_LIMIT and user.organization_id is not None:
            ordered = _by_next_session(
                visible,
                organization_id=user.organization_id,
                now=now,
                start=start,
                size=size,
                # A program's patients (no ``_in_care`` filter on them): the gate's
                # condition asked of each upcoming session's patient (below).
                user=user if sees_a_program(user) else None,
            )
        else:
            ordered = list(
                # (The next session reads no Part 2 record: no Part 2 set, which would
                # hide, not show, anything that did.)
                _columns(visible, now=now, part2_ids=(), shared_ids=(), only=_SORT_COLUMNS[sort])
                .order_by(*SORTS[sort], "pk")
                .values_list("pk", "next_session_at")[start : start + size]  # type: ignore[misc]
            )
        next_sessions = dict(ordered)
        shown = [pk for pk, _ in ordered]
    else:
        shown = list(
            _columns(
                visible,
                now=now,
                part2_ids=_visible(user, Category.PART2).values("pk"),
                shared_ids=(),
                only=_SORT_COLUMNS[sort],
            )
            .order_by(*SORTS[sort], "pk")
            .values_list("pk", flat=True)[start : start + size]
        )
    position = {pk: i for i, pk in enumerate(shown)}
    rows: list[Any] = []
    if shown:
        part2_ids = visible_among(user, shown, category=Category.PART2)
        shared_ids = visible_among(user, shown, category=Category.SHARED)
        instruments = _instrument_ids()
        today = timezone.localdate(now)
        # The page's columns: one statement compiled once per process
        # (tether.lib.statements), its lists of ids bound as arrays.
        sessions_read = next_sessions is not None
        # One version of an instrument is bound as an int (an equality: see _scores).
        versions = {code: ids[0] if len(ids) == 1 else ids for code, ids in instruments.items()}
        rows = statements.instances(
            (
                "staff.caseload.rows",
                sessions_read,
                *(isinstance(v, int) for v in versions.values()),
            ),
            Patient,
            lambda values: _page_columns(values, sessions_read=sessions_read),
            {
                "shown": shown,
                "part2": sorted(part2_ids),
                "shared": sorted(shared_ids),
                "phq9": versions["phq9"],
                "gad7": versions["gad7"],
                # (``now`` only for the next session's column, when not read already.)
                **({} if sessions_read else {"now": now}),
                "today": today,
                **window_bounds(today),
            },
        )
        for row in rows:
            _unpair(row)
        if next_sessions is not None:
            for row in rows:
                row.next_session_at = next_sessions[row.pk]
    rows.sort(key=lambda row: position[row.pk])
    today = timezone.localdate(now)
    review_url, record_url = per_id("staff:review"), per_id("staff:patient_detail")
    trends = _trends()
    done_of_due = gettext("%(done)s of %(due)s done")
    for row in rows:
        row.review_url, row.record_url = review_url(row.pk), record_url(row.pk)
        row.session_day = _day(row.next_session_at, today)
        row.phq9_trend = _trend(row.phq9_latest, row.phq9_previous, trends)
        row.gad7_trend = _trend(row.gad7_latest, row.gad7_previous, trends)
        # The row's sentences, translated here (its template has no words of its own).
        row.urgent_label = (
            ngettext("%(counter)s high or safety", "%(counter)s high or safety", row.urgent_flags)
            % {"counter": row.urgent_flags}
            if row.urgent_flags
            else ""
        )
        row.homework_label = (
            done_of_due % {"done": row.homework_done, "due": row.homework_due}
            if row.homework_due
            else ""
        )
    return CaseloadPage(rows=rows, number=number, pages=pages, total=total)


def _caseload_order(
    user: User, *, sort: str, now: dt.datetime
) -> list[tuple[int, dt.datetime | None]] | None:
    """Every patient of a person's own caseload on the board, in ``sort``'s order, with
    their next session (sessions order; None otherwise): one statement compiled once per
    process and sort, the caseload's ids bound as an array. The count and the page are
    cut from it (a caseload is tens of patients, at most ``PER_ROW_ORDER_LIMIT``). None
    when the gate has no id list for this user (a program's relations, outside a
    request) or the caseload is larger: ``caseload_page`` then counts and orders in SQL."""
    if sees_a_program(user) or user.organization_id is None or sort == "phq9":
        # (The PHQ-9 order's instrument versions change its statement's shape.)
        return None
    ids = own_visible_ids(user, Category.SELF_REPORT)
    part2 = own_visible_ids(user, Category.PART2) if sort != "sessions" else []
    if ids is None or part2 is None:
        return None
    found = statements.rows(
        ("staff.caseload.order", sort),
        lambda values: _order_of(values, sort=sort),
        {
            "ids": ids,
            "part2": part2,
            "organization": user.organization_id,
            "now": now,
            "today": timezone.localdate(now),
        },
    )
    if len(found) > PER_ROW_ORDER_LIMIT:
        return None
    if sort == "sessions":
        return [(pk, statements.moment(at)) for pk, at in found]
    return [(pk, None) for (pk,) in found]


def _order_of(values: Mapping[str, Any], *, sort: str) -> QuerySet[Any]:
    patients = Patient.objects.filter(
        AnyOf(F("pk"), values["ids"]), organization_id=values["organization"]
    ).filter(_in_care(values["today"]))
    ordered = _columns(
        patients,
        now=values["now"],
        today=values["today"],
        part2_ids=values["part2"],
        shared_ids=(),
        only=_SORT_COLUMNS[sort],
    ).order_by(*SORTS[sort], "pk")
    columns = ("pk", "next_session_at") if sort == "sessions" else ("pk",)
    return ordered.values_list(*columns)[: PER_ROW_ORDER_LIMIT + 1]


# The grouped read of the next sessions first looks only this many upcoming session
# rows (times the page's end) ahead: enough for a page of a lead's board in the usual
# program; when they hold too few visible patients it reads every upcoming session.
HORIZON_ROWS_PER_PATIENT = 4


def _by_next_session(
    visible: QuerySet[Patient],
    *,
    organization_id: int,
    now: dt.datetime,
    start: int,
    size: int,
    user: User | None = None,
) -> list[tuple[int, dt.datetime | None]]:
    """One page of the default order (``SORTS["sessions"]``), ordered and cut in SQL.
    The next session of every visible patient is one grouped read of the upcoming
    sessions joined to the patients (a per-patient subquery over a year of attendance
    costs seconds for a lead's thousands of patients).

    First within a horizon: the moment of the ``HORIZON_ROWS_PER_PATIENT * (start +
    size)``-th upcoming attendance. A patient whose next session is before it (then at
    or before it) is known exactly from the rows up to it, and every other patient's
    comes later and sorts after them; so when the horizon holds a full page's patients,
    that page is the page of the whole order (a lead's board read 11,000 upcoming
    sessions for 60 rows). Otherwise — a late page, few sessions booked — the whole
    read.

    ``user`` (a program's relation: ``visible`` is exactly the gate's set): the two
    horizon statements are kept compiled (``tether.lib.statements``; building them with
    the ORM was ~5 ms of a lead's board), the gate's per-row condition asked of each of
    the horizon's few hundred sessions' patients (an index probe each,
    ``gate.kept_visible``) instead of joining the patients to the whole set, which hashed
    every active episode and patient of the program (8.6 of the statement's 14 ms at
    10,000 patients)."""
    kept = (
        kept_visible(user, category=Category.SELF_REPORT, action=Action.VIEW)
        if user is not None
        else None
    )
    values: dict[str, Any] = {
        **(kept.values if kept is not None else {}),
        "organization": organization_id,
        "now": now,
        "horizon": HORIZON_ROWS_PER_PATIENT * (start + size),
        "size": size,
        "start": start,
    }
    # Before the horizon first, then up to it: a program's groups start together (every
    # group at 9:00 tomorrow), and the sessions at the horizon's own moment were most of
    # what it read (2,196 attendances for 241 before it, at 10,000 patients); a patient
    # with a session before that moment is known exactly all the same.
    for lookup in ("lt", "lte"):
        if kept is not None:
            with statements.executed(
                ("staff.caseload.horizon", lookup, kept.key),
                partial(_visible_within_horizon, lookup=lookup, visible=kept),
                values,
                # Planned for its values, as before: how many sessions the horizon
                # holds decides the plan.
                server_bound=False,
            ) as cursor:
                rows = [(pk, statements.moment(at)) for pk, at in cursor.fetchall()]
        else:
            rows = _next_session_page(
                _within_horizon(values, lookup), visible, values, booked_only=True
            )
        if len(rows) == size:
            return rows
    return _next_session_page(_upcoming(values), visible, values)


def _visible_within_horizon(
    values: Mapping[str, Any], *, lookup: str, visible: KeptVisible
) -> tuple[str, list[Any]]:
    """``_by_next_session``'s kept statement: the page among the visible patients'
    sessions within the horizon."""
    within = _within_horizon(values, lookup).filter(visible.condition(values))
    return _next_session_sql(within, None, values, booked_only=True)


def _upcoming(values: Mapping[str, Any]) -> QuerySet[Attendance]:
    """The organization's upcoming sessions, read by their (organization, start) index."""
    return Attendance.objects.filter(
        appointment__organization_id=values["organization"],
        appointment__starts_at__gte=values["now"],
        appointment__is_cancelled=False,
    )


def _within_horizon(values: Mapping[str, Any], lookup: str) -> QuerySet[Attendance]:
    """The upcoming sessions before (``lt``) or up to (``lte``) the horizon: the moment of
    the ``values["horizon"]``-th upcoming attendance (a parameter, not written into the
    text as a slice's bound is: one statement for every page)."""
    upcoming = _upcoming(values)
    moments_sql, moments_params = (
        upcoming.order_by("appointment__starts_at")
        .values("appointment__starts_at")
        .query.sql_with_params()
    )
    # Fixed text around a compiled queryset; every value a parameter.
    horizon = RawSQL(  # noqa: S611
        f"SELECT * FROM ({moments_sql}) moments LIMIT 1 OFFSET %s",  # noqa: S608
        (*moments_params, values["horizon"]),
    )
    return upcoming.filter(**{f"appointment__starts_at__{lookup}": horizon})


def _next_session_page(
    upcoming: QuerySet[Attendance],
    visible: QuerySet[Patient] | None,
    values: Mapping[str, Any],
    *,
    booked_only: bool = False,
) -> list[tuple[int, dt.datetime | None]]:
    """``_next_session_sql``'s page, run."""
    sql, params = _next_session_sql(upcoming, visible, values, booked_only=booked_only)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(pk, statements.moment(at)) for pk, at in cursor.fetchall()]


def _next_session_sql(
    upcoming: QuerySet[Attendance],
    visible: QuerySet[Patient] | None,
    values: Mapping[str, Any],
    *,
    booked_only: bool = False,
) -> tuple[str, list[Any]]:
    """The page (``values["start"]``, ``values["size"]``) of visible patients ordered by
    their first session of ``upcoming``, then (all of them, unless ``booked_only``)
    those with none, by name. ``visible`` None: ``upcoming`` holds only visible
    patients' sessions already (``booked_only`` then)."""
    upcoming_sql, upcoming_params = (
        upcoming.values("patient_id")
        .annotate(at=Min("appointment__starts_at"))
        .values("patient_id", "at")
        .query.sql_with_params()
    )
    if visible is None:
        if not booked_only:
            raise ValueError("every visible patient is listed: the gate's set is needed")
        where, visible_params = "", ()
    else:
        visible_sql, visible_params = visible.values("pk").query.sql_with_params()
        where = f"WHERE p.id IN ({visible_sql}) "
    # Fixed text and compiled querysets; every value is a parameter.
    sql = (
        "SELECT p.id, n.at FROM patients_patient p "  # noqa: S608
        f"{'' if booked_only else 'LEFT '}JOIN ({upcoming_sql}) n ON n.patient_id = p.id "
        f"{where}"
        "ORDER BY n.at IS NULL, n.at, "
        "p.last_name, p.first_name, p.id "
        "LIMIT %s OFFSET %s"
    )
    return sql, [*upcoming_params, *visible_params, values["size"], values["start"]]


# The columns each sort needs to order every visible patient (the rest are computed
# for the shown page only).
_SORT_COLUMNS: dict[str, frozenset[str]] = {
    "sessions": frozenset({"next_session_at"}),
    "name": frozenset(),
    "flags": frozenset({"open_flags", "top_severity"}),
    "phq9": frozenset({"phq9_latest"}),
    "checkin": frozenset({"last_checkin_at"}),
    "login": frozenset({"last_login"}),
}


def _instrument_ids() -> dict[str, list[int]]:
    """The PHQ-9's and GAD-7's instrument ids (every version)."""
    instruments: dict[str, list[int]] = {"phq9": [], "gad7": []}
    found = statements.rows(
        "staff.caseload.instruments",
        lambda _values: Instrument.objects.filter(code__in=sorted(instruments)).values_list(
            "pk", "code"
        ),
        {},
    )
    for pk, code in found:
        instruments[code].append(pk)
    return instruments


def _page_columns(values: Mapping[str, Any], *, sessions_read: bool) -> QuerySet[Patient]:
    """The shown page's rows with every column (``values``: see ``caseload_page``)."""
    return _columns(
        Patient.objects.filter(AnyOf(F("pk"), values["shown"])),
        now=values.get("now") or timezone.now(),  # (unused when the sessions were read)
        today=values["today"],
        due=counted_between(
            start=values["start"], today=values["today"], start_at=values["start_at"]
        ),
        part2_ids=values["part2"],
        shared_ids=values["shared"],
        instruments={"phq9": values["phq9"], "gad7": values["gad7"]},
        only=None,
        without=frozenset({"next_session_at"}) if sessions_read else None,
        paired=connection.vendor == "postgresql",
    )


# The board's page columns that ``_columns(paired=True)`` reads together, each pair or
# triple one subquery returning an array (PostgreSQL: ``_unpair`` splits them). The four
# score subqueries, as two, were planned in 0.5 ms and run in 1.0 ms for a page of 60
# where they took 2.0 and 2.3 (docs/BENCHMARKS.md, "Pages, twelfth pass").
_PAIRED: dict[str, tuple[str, ...]] = {
    "phq9_scores": ("phq9_latest", "phq9_previous"),
    "gad7_scores": ("gad7_latest", "gad7_previous"),
    "flag_counts": ("open_flags", "urgent_flags", "top_severity"),
    "homework_counts": ("homework_due", "homework_done"),
}
# What a paired column reads as when the patient has no rows: as the single columns.
_UNPAIRED_EMPTY: dict[str, tuple[Any, ...]] = {
    "phq9_scores": (None, None),
    "gad7_scores": (None, None),
    "flag_counts": (0, 0, None),
    "homework_counts": (0, 0),
}


def _unpair(row: Any) -> None:
    """The single columns of a row read with ``_columns(paired=True)``."""
    for paired, names in _PAIRED.items():
        if not hasattr(row, paired):
            continue  # read as single columns (not PostgreSQL)
        values = getattr(row, paired)
        found = list(values) if values else []
        empty = _UNPAIRED_EMPTY[paired]
        for i, name in enumerate(names):
            setattr(row, name, found[i] if i < len(found) else empty[i])


def _columns(
    patients: QuerySet[Patient],
    *,
    now: dt.datetime,
    part2_ids: PatientIds,
    shared_ids: Collection[int],
    only: frozenset[str] | None,
    without: frozenset[str] | None = None,
    today: dt.date | None = None,
    due: QuerySet[Assignment] | None = None,
    instruments: Mapping[str, list[int] | int] | None = None,
    paired: bool = False,
) -> QuerySet[Patient]:
    """The board's columns as subqueries on ``patients`` (``only``: just these;
    ``without``: all but these, read already; ``paired``: PostgreSQL, every column,
    those of ``_PAIRED`` read together as arrays, for ``_unpair``).
    ``part2_ids``: the page's ids, or the gate's set as a subquery when ordering every
    visible patient by a sort's columns. ``today``, ``due`` (the homework window's
    assignments) and ``instruments`` default to what ``now`` and the database say."""
    today = today or timezone.localdate(now)
    # From the index (patient, starts_at): the sessions still to come only, not the
    # patient's history (Attendance.starts_at, a copy of the appointment's start).
    next_session = Attendance.objects.filter(
        patient=OuterRef("pk"),
        starts_at__gte=now,
        appointment__is_cancelled=False,
    ).order_by("starts_at")
    readable = _readable_responses(part2_ids)
    checkins = readable.filter(patient=OuterRef("pk"), status=Response.Status.COMPLETE).order_by(
        "-submitted_at"
    )
    if due is None:  # the one homework window (homework.selectors)
        due = counted_assignments(today=today)
    # A snoozed flag stays quiet until its date (flags.services.flag_snooze); Part 2 flags
    # only of patients whose Part 2 record the gate opens (flags.selectors).
    open_flags = Flag.objects.filter(awake(today), status=Flag.Status.OPEN).exclude(
        Q(record_category=Category.PART2) & ~_among("patient", part2_ids)
    )
    # Safety flags and high ones: marked apart on the board (a new item-9 flag must not
    # look like any other).
    urgent = Q(severity=Severity.HIGH) | Q(kind=Flag.Kind.SAFETY)
    thread = Thread.objects.filter(patient=OuterRef("pk"))
    if instruments is None:
        if only is None or {"phq9_latest", "gad7_latest"} & only:
            instruments = _instrument_ids()
        else:
            instruments = {"phq9": [], "gad7": []}
    # Each column built only when asked for (a sort's order needs one of them).
    columns: dict[str, Callable[[], Any]] = {
        "next_session_at": lambda: Subquery(next_session.values("starts_at")[:1]),
        "last_checkin_at": lambda: Subquery(checkins.values("submitted_at")[:1]),
        "phq9_latest": lambda: _scores(readable, instruments["phq9"], 0),
        "phq9_previous": lambda: _scores(readable, instruments["phq9"], 1),
        "gad7_latest": lambda: _scores(readable, instruments["gad7"], 0),
        "gad7_previous": lambda: _scores(readable, instruments["gad7"], 1),
        "homework_due": lambda: _count(due),
        "homework_done": lambda: _count(due.filter(status=Assignment.Status.DONE)),
        "open_flags": lambda: _count(open_flags),
        "urgent_flags": lambda: _count(open_flags.filter(urgent)),
        "top_severity": lambda: _per_patient(open_flags, Max("severity"), IntegerField()),
        "unread": lambda: Case(
            When(
                _among("pk", shared_ids)
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
        "last_login": lambda: Subquery(
            User.objects.filter(pk=OuterRef("user_id")).values("last_login")[:1]
        ),
        # Whether the row shows Part 2 records (scores or flags labelled so), for the
        # category of the list's audit rows.
        "shows_part2": lambda: (
            Exists(readable.filter(patient=OuterRef("pk"), record_category=Category.PART2.value))
            | Exists(
                open_flags.filter(patient=OuterRef("pk"), record_category=Category.PART2.value)
            )
        ),
        # In a Part 2 program and the gate keeps its records from this user: the check-in
        # and score columns are hidden, not empty (never a false "Never").
        "part2_hidden": lambda: Case(
            When(
                # (A scalar subquery, not EXISTS: PostgreSQL hashed EXISTS's whole answer,
                # every active episode of the organization's substance-use programs,
                # 1.5 ms at 10,000 patients, where a page's 60 index probes cost 0.2.)
                IsNull(
                    Subquery(
                        Episode.objects.filter(
                            patient=OuterRef("pk"),
                            status=Episode.Status.ACTIVE,
                            program__treats_substance_use=True,
                        ).values("pk")[:1]
                    ),
                    False,
                )
                & ~_among("pk", part2_ids),
                then=Value(1),
            ),
            default=Value(0),
            output_field=IntegerField(),
        ),
    }
    if paired:
        if only is not None:
            raise ValueError("paired columns are read for every column")
        pairs: dict[str, Callable[[], Any]] = {
            "phq9_scores": lambda: ArraySubquery(
                _scores_newest_first(readable, instruments["phq9"])[:2]
            ),
            "gad7_scores": lambda: ArraySubquery(
                _scores_newest_first(readable, instruments["gad7"])[:2]
            ),
            "flag_counts": lambda: _counts(
                open_flags, Count("pk"), Count("pk", filter=urgent), Max("severity")
            ),
            "homework_counts": lambda: _counts(
                due, Count("pk"), Count("pk", filter=Q(status=Assignment.Status.DONE))
            ),
        }
        for name, names in _PAIRED.items():
            for single in names:
                del columns[single]
            columns[name] = pairs[name]
    return patients.annotate(
        **{
            name: build()
            for name, build in columns.items()
            if (only is None or name in only) and not (without and name in without)
        }
    )


@dataclass(frozen=True)
class Trend:
    arrow: str
    label: str


def _trends() -> dict[int, Trend]:
    """The three trends in the active language, by the sign of latest - previous
    (translated once for a page's rows, not twice per row)."""
    from django.utils.translation import gettext as _

    return {
        1: Trend("↑", _("higher than last time (worse)")),
        -1: Trend("↓", _("lower than last time (better)")),
        0: Trend("→", _("same as last time")),
    }


def _trend(latest: int | None, previous: int | None, trends: Mapping[int, Trend]) -> Trend | None:
    """``trends[sign]`` (``_trends()``, read once for the page) for these two scores."""
    if latest is None or previous is None:
        return None
    return trends[(latest > previous) - (latest < previous)]


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
