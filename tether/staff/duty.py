"""What is waiting for this staff member right now: shown on every staff page.

Urgent-contact requests nobody has acknowledged yet, and high-severity flags nobody has
acknowledged, for the people responsible for them (Epic's In Basket: urgent work is
counted where a clinician lands). One statement whatever the caseload (both kinds), run
only when a staff page actually shows the banner or the navigation counts
(``tether.staff.context_processors.duty`` hands templates a lazy object).

Who is responsible for a waiting urgent request (``UrgentContactRequest.level``):

- the patient's care team (active care-team members on an active episode), at any level:
  their own patient's call for help is never somebody else's problem;
- the program's on-call clinicians while it is with on-call, and after it escalated from
  on-call (an after-hours request);
- the program's clinical leads once it reached them (and after, while still waiting);
- the program's escalation contact at the last level (its program admins when the program
  has none, as ``crisis.services.recipients_at`` alerts them).

High flags are the care team's and the program's clinical lead's; Part 2 flags only for
those the gate lets see the patient's Part 2 record (``flags.selectors.without_hidden_part2``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tether.accounts.models import User
from tether.crisis.models import Level, UrgentContactRequest
from tether.flags.models import Flag, Severity
from tether.flags.selectors import without_hidden_part2
from tether.lib import statements
from tether.organizations.models import StaffMember
from tether.patients.models import CareTeamMember, Episode


@dataclass(frozen=True)
class Duty:
    urgent_waiting: int = 0
    # The soonest moment a waiting request passes to the next person (None: last level).
    urgent_escalates_at: dt.datetime | None = None
    # With exactly one waiting request, its id (the banner links straight to it).
    urgent_only_id: int | None = None
    high_flags_waiting: int = 0
    # Of those, how many are older than TETHER_HIGH_FLAG_ACK_HOURS.
    high_flags_overdue: int = 0
    checked_at: dt.datetime | None = None
    overdue_hours: int = 0

    @property
    def anything(self) -> bool:
        return bool(self.urgent_waiting or self.high_flags_waiting)

    @property
    def escalation_passed(self) -> bool:
        """The escalation moment is past (the sweep has not moved it yet)."""
        return (
            self.urgent_escalates_at is not None
            and self.checked_at is not None
            and self.urgent_escalates_at <= self.checked_at
        )


def _care_team_of(staff: StaffMember, patient_ref: str) -> Exists:
    return Exists(
        CareTeamMember.objects.filter(
            episode__patient=OuterRef(patient_ref),
            episode__status=Episode.Status.ACTIVE,
            staff_member=staff,
            ended_on__isnull=True,
        )
    )


def _my_programs(staff: StaffMember) -> QuerySet[Any, Any]:
    return StaffMember.programs.through.objects.filter(staffmember_id=staff.pk).values("program_id")


def _urgent_condition(staff: StaffMember) -> Q:
    condition = Q()
    if staff.is_clinical:
        condition |= Q(_care_team_of(staff, "patient_id"))
    programs = _my_programs(staff)
    if staff.role == StaffMember.Role.ON_CALL:
        condition |= Q(program_id__in=programs) & (
            Q(level=Level.ON_CALL)
            | Q(after_hours=True, level__in=[Level.CLINICAL_LEAD, Level.ESCALATION_CONTACT])
        )
    if staff.role == StaffMember.Role.CLINICAL_LEAD:
        condition |= Q(program_id__in=programs) & Q(
            level__in=[Level.CLINICAL_LEAD, Level.ESCALATION_CONTACT]
        )
    condition |= Q(level=Level.ESCALATION_CONTACT, program__escalation_contact=staff)
    if staff.role == StaffMember.Role.PROGRAM_ADMIN:
        condition |= Q(
            level=Level.ESCALATION_CONTACT,
            program_id__in=programs,
            program__escalation_contact__isnull=True,
        )
    return condition


def _high_flag_condition(staff: StaffMember) -> Q | None:
    if not staff.is_clinical:
        return None
    condition = Q(_care_team_of(staff, "patient_id"))
    if staff.role == StaffMember.Role.CLINICAL_LEAD:
        # Asked of each waiting flag (a few), not as the set of every patient of the
        # lead's programs (thousands, hashed on every staff page).
        condition |= Q(
            Exists(
                Episode.objects.filter(
                    patient=OuterRef("patient_id"),
                    status=Episode.Status.ACTIVE,
                    program_id__in=_my_programs(staff),
                )
            )
        )
    return condition


def duty_for(*, user: User, staff: StaffMember, now: dt.datetime | None = None) -> Duty:
    """What waits for ``staff``: one statement (the urgent requests' counts and the high
    flags' counts, each a grouped read joined to a one-row base), compiled once per
    process for this staff member (``tether.lib.statements``: its shape depends on their
    role; who is responsible and what the gate opens are read by the statement itself)."""
    now = now or timezone.now()
    if not staff.is_active:
        return Duty()
    overdue_hours = settings.TETHER_HIGH_FLAG_ACK_HOURS
    key = (
        "staff.duty",
        user.pk,
        user.is_active,
        user.organization_id,
        staff.pk,
        staff.organization_id,
        staff.role,
        staff.is_clinical,
    )

    def build(values: Mapping[str, Any]) -> tuple[str, list[Any]]:
        return _statement(user=user, staff=staff, **values)

    with statements.executed(
        key, build, {"now": now, "overdue_before": now - dt.timedelta(hours=overdue_hours)}
    ) as cursor:
        urgent_n, soonest, first, high_flags, overdue = _read(cursor.fetchone())
    return Duty(
        urgent_waiting=urgent_n or 0,
        urgent_escalates_at=soonest,
        urgent_only_id=first if urgent_n == 1 else None,
        high_flags_waiting=high_flags or 0,
        high_flags_overdue=overdue or 0,
        checked_at=now,
        overdue_hours=overdue_hours,
    )


def _statement(
    *, user: User, staff: StaffMember, now: dt.datetime, overdue_before: dt.datetime
) -> tuple[str, list[Any]]:
    urgent = (
        UrgentContactRequest.objects.filter(
            _urgent_condition(staff),
            organization_id=staff.organization_id,
            status=UrgentContactRequest.Status.OPEN,
        )
        .order_by()
        .values("organization_id")
        .annotate(n=Count("pk"), soonest=Min("escalate_at"), first=Min("pk"))
        .values("n", "soonest", "first")
    )
    parts: list[QuerySet[Any]] = [urgent]
    flag_condition = _high_flag_condition(staff)
    if flag_condition is not None:
        flags = without_hidden_part2(
            Flag.objects.filter(
                flag_condition,
                organization_id=staff.organization_id,
                status=Flag.Status.OPEN,
                severity=Severity.HIGH,
                acknowledged_at__isnull=True,
            ),
            user=user,
            now=now,
        )
        parts.append(
            flags.order_by()
            .values("organization_id")
            .annotate(n=Count("pk"), overdue=Count("pk", filter=Q(raised_at__lt=overdue_before)))
            .values("n", "overdue")
        )
    return _together(parts)


def _together(parts: list[QuerySet[Any]]) -> tuple[str, list[Any]]:
    """The urgent requests' (count, soonest escalation, first id) and the high flags'
    (count, overdue) as one statement: each part is grouped by the organization it is
    filtered to (no row when nothing waits), left-joined to a one-row base. Fixed text
    and compiled querysets; every value is a parameter."""
    sql = "SELECT u.n, u.soonest, u.first"
    joins = ""
    params: list[Any] = []
    for alias, part in zip(("u", "f"), parts, strict=False):
        part_sql, part_params = part.query.sql_with_params()
        joins += f" LEFT JOIN ({part_sql}) {alias} ON 1 = 1"
        params.extend(part_params)
    sql += ", f.n, f.overdue" if len(parts) > 1 else ", NULL, NULL"
    return f"{sql} FROM (SELECT 1 AS one) base{joins}", params


def _read(row: tuple[Any, ...]) -> tuple[Any, ...]:
    soonest = row[1]
    if isinstance(soonest, str):
        # SQLite hands back text (UTC) for a moment read through raw SQL.
        soonest = parse_datetime(soonest)
    if soonest is not None and timezone.is_naive(soonest):
        soonest = timezone.make_aware(soonest, dt.UTC)
    return (row[0], soonest, row[2], row[3], row[4])
