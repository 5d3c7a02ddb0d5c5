"""Reads for flags, always through the privacy gate (category self_report: flags
are raised from what the patient reports and does in the portal)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncWeek

from tether.accounts.models import User
from tether.flags.models import Flag
from tether.organizations.models import StaffMember
from tether.patients.models import Patient
from tether.privacy.gate import patients_visible_to
from tether.privacy.policy import Action, Category


def open_flags_for(*, patient: Patient) -> list[Flag]:
    """The caller has already asked the gate (category self_report)."""
    return list(
        Flag.objects.filter(patient=patient, status=Flag.Status.OPEN).select_related("rule")
    )


# Rules whose flag itself says something about substance use (42 CFR Part 2): shown
# only to people the gate lets see the patient's Part 2 record.
PART2_RULES = frozenset({"craving_rise"})


def without_hidden_part2(flags: QuerySet[Flag], *, user: User) -> QuerySet[Flag]:
    part2 = patients_visible_to(user, category=Category.PART2, action=Action.VIEW)
    return flags.exclude(Q(reason__in=PART2_RULES) & ~Q(patient__in=part2.values("pk")))


def _is_clinical(user: User) -> bool:
    staff = getattr(user, "staff_member", None)
    return staff is not None and staff.is_active and staff.role in StaffMember.CLINICAL_ROLES


def queue_for(*, user: User) -> QuerySet[Flag]:
    """Every flag of the patients whose self-report this clinical user may see."""
    if not user.is_authenticated or not _is_clinical(user):
        return Flag.objects.none()
    visible = patients_visible_to(user, category=Category.SELF_REPORT, action=Action.VIEW)
    return without_hidden_part2(Flag.objects.filter(patient__in=visible.values("pk")), user=user)


def open_queue(*, user: User) -> list[Flag]:
    """Open flags ranked: most severe first, then the oldest."""
    return list(
        queue_for(user=user)
        .filter(status=Flag.Status.OPEN)
        .select_related("patient", "rule", "assigned_to", "acknowledged_by")
        .order_by("-severity", "raised_at", "pk")
    )


@dataclass(frozen=True)
class ProgramFigures:
    program: str
    raised: int
    resolved: int
    share_resolved: float | None
    median_hours_to_acknowledge: float | None
    per_week: list[tuple[dt.date, str, int]]


def figures_for(*, user: User, since: dt.datetime) -> list[ProgramFigures]:
    """Per program: flags per week by rule, time to acknowledge, share resolved."""
    flags = queue_for(user=user).filter(raised_at__gte=since, episode__isnull=False)
    weekly = (
        flags.annotate(week=TruncWeek("raised_at"))
        .values("episode__program__name", "week", "reason")
        .annotate(n=Count("pk"))
        .order_by("episode__program__name", "week", "reason")
    )
    totals = (
        flags.values("episode__program__name")
        .annotate(raised=Count("pk"), resolved=Count("pk", filter=Q(status=Flag.Status.CLOSED)))
        .order_by("episode__program__name")
    )
    waits: dict[str, list[float]] = {}
    for name, raised_at, acknowledged_at in flags.filter(acknowledged_at__isnull=False).values_list(
        "episode__program__name", "raised_at", F("acknowledged_at")
    ):
        waits.setdefault(name, []).append((acknowledged_at - raised_at).total_seconds() / 3600)
    result = []
    for row in totals:
        name = row["episode__program__name"]
        hours = sorted(waits.get(name, []))
        median = None
        if hours:
            mid = len(hours) // 2
            median = hours[mid] if len(hours) % 2 else (hours[mid - 1] + hours[mid]) / 2
        result.append(
            ProgramFigures(
                program=name,
                raised=row["raised"],
                resolved=row["resolved"],
                share_resolved=row["resolved"] / row["raised"] if row["raised"] else None,
                median_hours_to_acknowledge=median,
                per_week=[
                    (
                        w["week"].date() if hasattr(w["week"], "date") else w["week"],
                        w["reason"],
                        w["n"],
                    )
                    for w in weekly
                    if w["episode__program__name"] == name
                ],
            )
        )
    return result
