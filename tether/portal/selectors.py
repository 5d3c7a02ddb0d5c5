"""Reads for the patient and family areas (always through the privacy gate)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from tether.patients.models import Episode, Patient
from tether.scheduling.models import Attendance


def current_episode(*, patient: Patient) -> Episode | None:
    return (
        Episode.objects.filter(patient=patient, status=Episode.Status.ACTIVE)
        .select_related("program")
        .first()
    )


def upcoming_sessions(*, patient: Patient, limit: int = 5) -> QuerySet[Attendance]:
    return (
        Attendance.objects.filter(
            patient=patient,
            appointment__starts_at__gte=timezone.now(),
            appointment__is_cancelled=False,
        )
        .select_related("appointment", "appointment__clinician__user")
        .order_by("appointment__starts_at")[:limit]
    )


def recent_attendance(*, patient: Patient, limit: int = 10) -> QuerySet[Attendance]:
    return (
        Attendance.objects.filter(patient=patient, appointment__starts_at__lt=timezone.now())
        .select_related("appointment")
        .order_by("-appointment__starts_at")[:limit]
    )
