"""Reads for flags, always through the privacy gate (category self_report: flags
are raised from what the patient reports and does in the portal; a flag whose
``record_category`` is ``part2`` also needs the gate's leave to see the patient's Part 2
record)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncWeek

from tether.accounts.models import User
from tether.flags.models import Flag
from tether.flags.rules import PART2_RULES
from tether.organizations.models import StaffMember
from tether.patients.models import Patient
from tether.privacy.gate import patients_visible_to
from tether.privacy.policy import Action, Category


def open_flags_for(*, patient: Patient, include_part2: bool = True) -> list[Flag]:
    """The caller has already asked the gate (category self_report); ``include_part2``
    is its decision for the patient's Part 2 record (else Part 2 flags are left out)."""
    flags = Flag.objects.filter(patient=patient, status=Flag.Status.OPEN)
    return list(visible_flags(flags, include_part2=include_part2).select_related("rule"))


def without_hidden_part2(flags: QuerySet[Flag], *, user: User) -> QuerySet[Flag]:
    """Leave out the Part 2 flags (``Flag.record_category``: from a Part 2 program's data, or
    a craving flag) of patients whose Part 2 record the gate does not let ``user`` see."""
    part2 = patients_visible_to(user, category=Category.PART2, action=Action.VIEW)
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


__all__ = ["PART2_RULES", "open_flags_for", "open_queue", "queue_for", "without_hidden_part2"]
