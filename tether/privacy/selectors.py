"""Reads of the audit trail: the audit report (ONC (d)(3)) and "who viewed my record"."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Min, QuerySet
from django.db.models.functions import TruncDate

from tether.accounts.models import User
from tether.organizations.models import Program, StaffMember
from tether.patients.models import Episode, Patient
from tether.privacy.models import AuditEvent

# Who may read the organization's audit reports.
AUDIT_REPORT_ROLES = frozenset({StaffMember.Role.PRIVACY_OFFICER, StaffMember.Role.CLINICAL_LEAD})


def may_see_audit_reports(user: object) -> bool:
    """Active privacy officers and clinical leads, for their own organization."""
    if not isinstance(user, User) or not user.is_active or not user.is_staff_member:
        return False
    if user.organization_id is None:
        return False
    try:
        staff = user.staff_member
    except StaffMember.DoesNotExist:
        return False
    return staff.is_active and staff.role in AUDIT_REPORT_ROLES


def organization_time_zone(*, organization_id: int) -> zoneinfo.ZoneInfo:
    """The time zone that dates in the organization's reports mean: that of its first
    active program (programs carry the time zone; an organization has one place of
    business in practice), or the server's when it has none."""
    name = (
        Program.objects.filter(organization_id=organization_id, is_active=True)
        .order_by("pk")
        .values_list("time_zone", flat=True)
        .first()
    )
    return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)


def patient_time_zone(*, patient: Patient) -> zoneinfo.ZoneInfo:
    """The time zone of the patient's current (or latest) program."""
    name = (
        Episode.objects.filter(patient=patient)
        .order_by("status", "-admitted_on")  # "active" sorts before "discharged"
        .values_list("program__time_zone", flat=True)
        .first()
    )
    if name is None:
        return organization_time_zone(organization_id=patient.organization_id)
    return zoneinfo.ZoneInfo(name)


@dataclass(frozen=True)
class AuditFilter:
    """What an audit report shows: one organization, a period, and optional narrowing."""

    organization_id: int
    starts: dt.datetime  # inclusive
    ends: dt.datetime  # exclusive
    actor_id: int | None = None
    patient_id: int | None = None
    outcome: str = ""
    oldest_first: bool = False


def audit_report_events(*, report: AuditFilter) -> QuerySet[AuditEvent]:
    """The events of a report with the people they name, in two queries per page."""
    events = AuditEvent.objects.filter(
        organization_id=report.organization_id,
        occurred_at__gte=report.starts,
        occurred_at__lt=report.ends,
    )
    if report.actor_id is not None:
        events = events.filter(actor_id=report.actor_id)
    if report.patient_id is not None:
        events = events.filter(patient_id=report.patient_id)
    if report.outcome:
        events = events.filter(outcome=report.outcome)
    order = ("occurred_at", "pk") if report.oldest_first else ("-occurred_at", "-pk")
    return events.select_related("actor", "patient", "seal").order_by(*order)


def record_views(*, patient: Patient, tz: zoneinfo.ZoneInfo) -> QuerySet[Any, Any]:
    """Who else looked at or changed the patient's record: one row per day, person and
    kind of access, with how many times and when (first, last). Newest day first.

    Only allowed accesses by people: refused attempts did not see anything, the
    system's own processing is nobody looking, and the patient's own visits are theirs.
    """
    events = AuditEvent.objects.filter(
        patient=patient, outcome=AuditEvent.Outcome.ALLOWED, actor__isnull=False
    )
    if patient.user_id is not None:
        events = events.exclude(actor_id=patient.user_id)
    return (
        events.annotate(day=TruncDate("occurred_at", tzinfo=tz))
        .values("day", "actor_id", "actor_role", "relation", "acting_as", "action", "category")
        .annotate(times=Count("id"), first=Min("occurred_at"), last=Max("occurred_at"))
        .order_by("-day", "-last", "actor_id")
    )
