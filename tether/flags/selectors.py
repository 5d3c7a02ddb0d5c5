"""Reads for flags, always through the privacy gate (category self_report: flags
are raised from what the patient reports and does in the portal; a flag whose
``record_category`` is ``part2`` also needs the gate's leave to see the patient's Part 2
record)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db.models import (
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    Q,
    QuerySet,
)
from django.db.models.functions import TruncWeek
from django.utils import timezone

from tether.accounts.models import User
from tether.flags.models import Flag, awake, reason_label
from tether.flags.rules import PART2_RULES
from tether.lib import statements
from tether.lib.statements import AnyOf
from tether.lib.urls import per_id
from tether.organizations.models import StaffMember
from tether.patients.models import Patient
from tether.privacy.gate import KeptVisible, kept_visible, patients_visible_to, visible_among
from tether.privacy.policy import Action, Category


def open_flags_for(*, patient: Patient, include_part2: bool = True) -> list[Flag]:
    """The caller has already asked the gate (category self_report); ``include_part2``
    is its decision for the patient's Part 2 record (else Part 2 flags are left out)."""
    flags = Flag.objects.filter(patient=patient, status=Flag.Status.OPEN)
    return list(visible_flags(flags, include_part2=include_part2).select_related("rule"))


def without_hidden_part2(
    flags: QuerySet[Flag], *, user: User, now: dt.datetime | None = None
) -> QuerySet[Flag]:
    """Leave out the Part 2 flags (``Flag.record_category``: from a Part 2 program's data, or
    a craving flag) of patients whose Part 2 record the gate does not let ``user`` see."""
    part2 = patients_visible_to(user, category=Category.PART2, action=Action.VIEW, now=now)
    return flags.exclude(Q(record_category=Category.PART2) & ~Q(patient__in=part2.values("pk")))


def visible_flags(flags: QuerySet[Flag], *, include_part2: bool) -> QuerySet[Flag]:
    """One patient's flags for a viewer the gate has already decided on:
    ``include_part2`` is the gate's decision for the patient's Part 2 record."""
    return flags if include_part2 else flags.exclude(record_category=Category.PART2)


def follow_up_category(flag: Flag) -> Category:
    """What acting on a flag writes (acknowledged, assigned, resolved with a note): a
    clinical note about the patient, ``mental_health``, or ``part2`` for a Part 2 flag.
    The gate is asked to ``create`` it (docs/PRIVACY.md: lead and on-call document
    follow-up)."""
    return Category.PART2 if flag.record_category == Category.PART2 else Category.MENTAL_HEALTH


def _is_clinical(user: User) -> bool:
    staff = getattr(user, "staff_member", None)
    return staff is not None and staff.is_active and staff.role in StaffMember.CLINICAL_ROLES


@dataclass(frozen=True)
class _Queue:
    """The flags of the patients whose self-report a clinical user may see, a Part 2 flag
    only where they may see the patient's Part 2 record: a condition whose SQL depends on
    the user's shape alone, so the queue's statements are compiled once per process and
    shape (``tether.lib.statements``) with this user's ``values`` bound."""

    self_report: KeptVisible
    part2: KeptVisible | None

    @property
    def key(self) -> Hashable:
        return (self.self_report.key, self.part2.key if self.part2 is not None else None)

    @property
    def values(self) -> dict[str, Any]:
        return {**self.self_report.values, **(self.part2.values if self.part2 else {})}

    def flags(self, values: Mapping[str, Any]) -> QuerySet[Flag]:
        flags = Flag.objects.filter(self.self_report.condition(values))
        if self.part2 is None:
            return flags.exclude(record_category=Category.PART2)
        return flags.exclude(Q(record_category=Category.PART2) & ~self.part2.condition(values))


def _queue(user: User) -> _Queue | None:
    if not user.is_authenticated or not _is_clinical(user):
        return None
    self_report = kept_visible(user, category=Category.SELF_REPORT, name="visible")
    if self_report is None:
        return None
    return _Queue(self_report, kept_visible(user, category=Category.PART2, name="part2"))


def queue_for(*, user: User) -> QuerySet[Flag]:
    """Every flag of the patients whose self-report this clinical user may see (a Part 2
    flag only where the gate lets them see the patient's Part 2 record)."""
    queue = _queue(user)
    return Flag.objects.none() if queue is None else queue.flags(queue.values)


def open_queue(*, user: User, today: dt.date | None = None) -> list[Flag]:
    """Open flags ranked: most severe first, then the oldest. Snoozed flags stay out
    until their date (``snoozed_queue``)."""
    return list(
        queue_for(user=user)
        .filter(awake(today or timezone.localdate()), status=Flag.Status.OPEN)
        .select_related("patient", "rule", "assigned_to", "acknowledged_by")
        .order_by("-severity", "raised_at", "pk")
    )


def snoozed_queue(*, user: User, today: dt.date | None = None) -> list[Flag]:
    """Open flags snoozed past ``today``: who snoozed them, until when and why (shown to
    everyone who sees the queue, the clinical lead included; the queue page reads them
    with its own, ``queue_page``)."""
    return list(
        queue_for(user=user)
        .filter(status=Flag.Status.OPEN)
        .exclude(awake(today or timezone.localdate()))
        .select_related("patient", "rule", "snoozed_by")
        .order_by("snoozed_until", "pk")
    )


class WeekCount(NamedTuple):
    week: dt.date
    reason: str  # the rule's code (the queue's filter takes it)
    label: str  # its name, as the queue shows it
    flags: int


@dataclass(frozen=True)
class ProgramFigures:
    program: str
    raised: int
    resolved: int
    share_resolved: float | None
    median_hours_to_acknowledge: float | None
    per_week: list[WeekCount]


def figures_for(*, user: User, since: dt.datetime) -> list[ProgramFigures]:
    """Per program: flags per week by rule, time to acknowledge, share resolved. One read
    of the period's flags (their program, week, rule, status and two moments), counted
    here: the median needs every wait anyway, and each grouped count was one more pass
    over the gate's visible set. Its statement is compiled once per process and shape of
    user (``_Queue``)."""
    queue = _queue(user)
    if queue is None:
        return []

    def make(values: Mapping[str, Any]) -> QuerySet[Any]:
        # The week as a date and the wait as an interval, both from SQL: a lead's eight
        # weeks are hundreds of flags, and turning three aware moments per row into
        # Python datetimes cost more than the query (~11 ms of ~20 at 10,000 patients).
        return (
            queue.flags(values)
            # (The user's organization's flags: the gate asks it of each flag's patient,
            # and this reads the period from the index on the flags' own.)
            .filter(
                organization_id=values["organization"],
                raised_at__gte=values["since"],
                episode__isnull=False,
            )
            .annotate(
                week=TruncWeek("raised_at", output_field=DateField()),
                wait=ExpressionWrapper(
                    F("acknowledged_at") - F("raised_at"), output_field=DurationField()
                ),
            )
            .values_list("episode__program__name", "week", "reason", "status", "wait")
            .order_by("episode__program__name", "week", "reason")
        )

    rows = statements.rows(
        ("flags.figures", queue.key),
        make,
        {**queue.values, "organization": user.organization_id, "since": since},
        # A program's eight weeks of flags are joined by how many the period holds, which
        # PostgreSQL judges from its start (a plan made without the values hashed every
        # episode: 6.4 -> 9.0 ms for a lead at 10,000 patients); a person's few patients'
        # flags are few whatever the period.
        server_bound=not queue.self_report.program_wide,
    )
    programs: dict[str, dict[str, Any]] = {}
    for name, week, reason, status, wait in rows:
        program = programs.setdefault(name, {"raised": 0, "resolved": 0, "waits": [], "weeks": {}})
        program["raised"] += 1
        if status == Flag.Status.CLOSED:
            program["resolved"] += 1
        if wait is not None:
            program["waits"].append(wait.total_seconds() / 3600)
        key = (week, reason)
        program["weeks"][key] = program["weeks"].get(key, 0) + 1
    result = []
    for name, program in programs.items():
        hours = sorted(program["waits"])
        median = None
        if hours:
            mid = len(hours) // 2
            median = hours[mid] if len(hours) % 2 else (hours[mid - 1] + hours[mid]) / 2
        result.append(
            ProgramFigures(
                program=name,
                raised=program["raised"],
                resolved=program["resolved"],
                share_resolved=program["resolved"] / program["raised"],
                median_hours_to_acknowledge=median,
                per_week=[
                    WeekCount(week, reason, reason_label(reason), n)
                    for (week, reason), n in program["weeks"].items()
                ],
            )
        )
    return result


# --- The queue page: grouped by patient, filtered, paged ------------------------------

AGE_CHOICES = {"1": 1, "3": 3, "7": 7}  # "older than N days"
PATIENTS_PER_PAGE = 10


@dataclass(frozen=True)
class QueueFilters:
    severity: int | None = None
    rule: str = ""
    clinician_id: int | None = None  # a care-team member of the patient
    older_than_days: int | None = None
    patient_id: int | None = None
    overdue_only: bool = False

    @classmethod
    def from_query(cls, query: dict[str, str]) -> QueueFilters:
        def as_int(name: str) -> int | None:
            value = query.get(name, "")
            return int(value) if value.isdigit() else None

        severity = as_int("severity")
        return cls(
            severity=severity if severity in (1, 2, 3) else None,
            rule=query.get("rule", "")[:40],
            clinician_id=as_int("clinician"),
            older_than_days=AGE_CHOICES.get(query.get("age", "")),
            patient_id=as_int("patient"),
            overdue_only=query.get("overdue") == "1",
        )


def _overdue_before(now: dt.datetime) -> dt.datetime:
    """A high flag raised before this and not acknowledged is overdue (raised more than
    TETHER_HIGH_FLAG_ACK_HOURS ago)."""
    from django.conf import settings

    return now - dt.timedelta(hours=settings.TETHER_HIGH_FLAG_ACK_HOURS)


def _overdue(before: dt.datetime) -> Q:
    return Q(severity=3, acknowledged_at__isnull=True, raised_at__lt=before)


def is_overdue(flag: Flag, now: dt.datetime) -> bool:
    return (
        flag.severity == 3
        and flag.acknowledged_at is None
        and flag.raised_at < _overdue_before(now)
    )


def _matching(filters: QueueFilters, values: Mapping[str, Any]) -> Q:
    """The queue's open flags that are awake on ``values["today"]`` (a snoozed flag stays
    out until its date: ``snoozed_queue``) and match ``filters``, their values taken from
    ``values`` (``_filter_values``)."""
    from tether.patients.models import CareTeamMember

    condition = awake(values["today"]) & Q(status=Flag.Status.OPEN)
    if filters.severity is not None:
        condition &= Q(severity=values["severity"])
    if filters.rule:
        condition &= Q(reason=values["rule"])
    if filters.older_than_days is not None:
        condition &= Q(raised_at__lt=values["older_than"])
    if filters.patient_id is not None:
        condition &= Q(patient_id=values["patient"])
    if filters.clinician_id is not None:
        condition &= Q(
            patient_id__in=CareTeamMember.objects.filter(
                staff_member__user_id=values["clinician"],
                ended_on__isnull=True,
                episode__status="active",
            ).values("episode__patient_id")
        )
    if filters.overdue_only:
        condition &= _overdue(values["overdue_before"])
    return condition


def _filter_values(filters: QueueFilters, now: dt.datetime) -> dict[str, Any]:
    values: dict[str, Any] = {
        "today": timezone.localdate(now),
        "overdue_before": _overdue_before(now),
    }
    if filters.severity is not None:
        values["severity"] = filters.severity
    if filters.rule:
        values["rule"] = filters.rule
    if filters.older_than_days is not None:
        values["older_than"] = now - dt.timedelta(days=filters.older_than_days)
    if filters.patient_id is not None:
        values["patient"] = filters.patient_id
    if filters.clinician_id is not None:
        values["clinician"] = filters.clinician_id
    return values


@dataclass
class PatientFlags:
    patient: Patient
    flags: list[Flag]
    overdue: int
    review_url: str = ""  # the patient's pre-session review
    # The group's sentences, translated for the page (flags.views._with_sentences).
    count_label: str = ""
    call_label: str = ""


@dataclass(frozen=True)
class QueuePage:
    groups: list[PatientFlags]  # this page's patients, each with their open flags
    pages: int
    overdue: int  # high flags not acknowledged in time, in the whole filtered queue
    snoozed: list[Flag]  # every snoozed flag of the queue (not filtered)


def queue_page(*, user: User, filters: QueueFilters, page: int, now: dt.datetime) -> QueuePage:
    """One page of patients with open flags (most severe, then longest waiting, first),
    each with all their open flags that match the filters; the number of pages and of
    overdue flags; and the snoozed flags. Four statements whatever the queue's size:

    1. the filtered queue's patients in order, with their overdue flags (the gate's
       conditions, compiled once per process and shape of user: ``_Queue``);
    2. the snoozed flags' ids, also kept compiled;
    3. the user's relations to the patients shown (``held_relations``: the list's audit
       rows use them too), for their Part 2 flags;
    4. the flags shown, with their patients, rules and staff, by the ids found: no gate
       condition left to compile or plan."""
    queue = _queue(user)
    if queue is None:
        return QueuePage([], 1, 0, [])
    values = {**queue.values, **_filter_values(filters, now)}
    shape = (
        filters.severity is not None,
        bool(filters.rule),
        filters.older_than_days is not None,
        filters.patient_id is not None,
        filters.clinician_id is not None,
        filters.overdue_only,
    )

    def make_groups(values: Mapping[str, Any]) -> QuerySet[Any]:
        return (
            queue.flags(values)
            .filter(_matching(filters, values))
            .order_by()
            .values("patient_id")
            .annotate(
                top=Max("severity"),
                oldest=Min("raised_at"),
                overdue=Count("pk", filter=_overdue(values["overdue_before"])),
            )
            .order_by("-top", "oldest", "patient_id")
            .values_list("patient_id", "overdue")
        )

    def make_snoozed(values: Mapping[str, Any]) -> QuerySet[Any]:
        return (
            queue.flags(values)
            .filter(status=Flag.Status.OPEN)
            .exclude(awake(values["today"]))
            .order_by("snoozed_until", "pk")
            .values_list("pk", "patient_id")
        )

    groups = statements.rows(("flags.queue_groups", queue.key, shape), make_groups, values)
    snoozed_rows = statements.rows(
        ("flags.queue_snoozed", queue.key),
        make_snoozed,
        {key: values[key] for key in (*queue.values, "today")},
    )
    pages = max(1, -(-len(groups) // PATIENTS_PER_PAGE))
    page = min(max(page, 1), pages)
    start = (page - 1) * PATIENTS_PER_PAGE
    patient_ids = [pk for pk, _overdue_flags in groups[start : start + PATIENTS_PER_PAGE]]
    snoozed_ids = [pk for pk, _patient in snoozed_rows]
    # Their Part 2 flags only where the user may see the patient's Part 2 record: the
    # same answer as ``_Queue``'s condition, from the relations the list's audit reads.
    part2 = visible_among(
        user,
        [*patient_ids, *(patient for _pk, patient in snoozed_rows)],
        category=Category.PART2,
    )
    shown = (
        Q(AnyOf(F("patient_id"), patient_ids))
        & ~(Q(record_category=Category.PART2) & ~Q(AnyOf(F("patient_id"), sorted(part2))))
        & _matching(filters, values)
        if patient_ids
        else Q(pk__in=[])
    )
    rows = list(
        Flag.objects.filter(shown | Q(AnyOf(F("pk"), snoozed_ids)))
        .select_related("patient", "rule", "assigned_to", "acknowledged_by", "snoozed_by")
        .order_by("-severity", "raised_at", "pk")
    )
    by_patient: dict[int, list[Flag]] = {pk: [] for pk in patient_ids}
    snoozed_at = {pk: index for index, pk in enumerate(snoozed_ids)}
    snoozed: list[Flag] = []
    # The links every flag carries, each reversed once for the page (tether.lib.urls).
    review_url, act_url, snooze_url = (
        per_id("staff:review"),
        per_id("flags:act"),
        per_id("flags:snooze"),
    )
    for flag in rows:
        if flag.pk in snoozed_at:
            snoozed.append(flag)
            continue
        # For the template:
        flag.is_overdue = is_overdue(flag, now)  # type: ignore[attr-defined]
        flag.review_url = review_url(flag.patient_id)  # type: ignore[attr-defined]
        flag.act_url = act_url(flag.pk)  # type: ignore[attr-defined]
        flag.snooze_url = snooze_url(flag.pk)  # type: ignore[attr-defined]
        by_patient[flag.patient_id].append(flag)
    snoozed.sort(key=lambda flag: snoozed_at[flag.pk])
    result = [
        PatientFlags(
            patient=by_patient[pk][0].patient,
            flags=by_patient[pk],
            review_url=review_url(pk),
            overdue=sum(1 for f in by_patient[pk] if is_overdue(f, now)),
        )
        for pk in patient_ids
        if by_patient[pk]
    ]
    return QueuePage(result, pages, sum(n for _pk, n in groups), snoozed)


def clinicians_for_filter(*, user: User) -> list[tuple[int, str]]:
    """The clinical staff of the user's programs (the queue's clinician filter): each
    one's id and full name, by last name (only what the menu shows: a program's
    clinicians are a hundred or more, and their whole rows cost more than the query)."""
    staff = getattr(user, "staff_member", None)
    if staff is None:
        return []
    # One statement compiled once per process, the staff member's id bound.
    rows = statements.rows("flags.clinicians_for_filter", _clinicians_of, {"staff": staff.pk})
    # As User.get_full_name.
    return [(pk, f"{first} {last}".strip()) for pk, first, last in rows]


def _clinicians_of(values: Any) -> QuerySet[Any]:
    programs = StaffMember.programs.through.objects.filter(staffmember_id=values["staff"])
    return (
        User.objects.filter(
            staff_member__programs__in=programs.values("program_id"),
            staff_member__role__in=sorted(StaffMember.CLINICAL_ROLES),
            staff_member__is_active=True,
        )
        .distinct()
        .order_by("last_name", "first_name", "pk")
        .values_list("pk", "first_name", "last_name")
    )


@dataclass(frozen=True)
class Precision:
    """How a rule's resolved flags were judged: useful (called the patient, discussed
    in session, adjusted the plan) or dismissed as "no action needed"."""

    useful: int
    dismissed: int

    @property
    def resolved(self) -> int:
        return self.useful + self.dismissed

    @property
    def useful_percent(self) -> int | None:
        return round(100 * self.useful / self.resolved) if self.resolved else None


def precision_by_rule(*, rule_ids: list[int], since: dt.datetime) -> dict[int, Precision]:
    """Per rule (one query for all of them): flags resolved since ``since`` as useful
    vs "no action". Counts only, no patient: shown to the program's lead and admin."""
    rows = (
        Flag.objects.filter(rule_id__in=rule_ids, status=Flag.Status.CLOSED, closed_at__gte=since)
        .values("rule_id")
        .annotate(
            useful=Count("pk", filter=~Q(action=Flag.Action.NO_ACTION)),
            dismissed=Count("pk", filter=Q(action=Flag.Action.NO_ACTION)),
        )
        .order_by("rule_id")
    )
    return {row["rule_id"]: Precision(row["useful"], row["dismissed"]) for row in rows}


__all__ = ["PART2_RULES", "open_flags_for", "open_queue", "queue_for", "without_hidden_part2"]
