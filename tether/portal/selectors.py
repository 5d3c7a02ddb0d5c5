"""Reads for the patient and family areas (always through the privacy gate)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from tether.patients.models import Episode, Patient
from tether.privacy import audit
from tether.privacy.gate import decide
from tether.privacy.models import Purpose
from tether.privacy.policy import Action, Category
from tether.scheduling.models import Attendance


def may_read_own(request: HttpRequest, *, patient: Patient, category: Category) -> bool:
    """For a page that has the patient already (read through the gate under another
    category): may the signed-in patient also read this category of their record?
    Asked of the gate and audited like any read; a refusal shows nothing of it."""
    decision = decide(request.user, patient, category=category, action=Action.VIEW)  # type: ignore[arg-type]
    if not decision.allowed:
        return False
    audit.record_access(
        request,
        patient=patient,
        category=category,
        action=Action.VIEW,
        purpose=Purpose.PATIENT_REQUEST,
        relation=decision.relation,
    )
    return True


def current_episode(*, patient: Patient) -> Episode | None:
    return (
        Episode.objects.filter(patient=patient, status=Episode.Status.ACTIVE)
        .select_related("program")
        .first()
    )


def upcoming_sessions(
    *, patient: Patient, limit: int = 5, with_people: bool = True
) -> QuerySet[Attendance]:
    """The patient's next sessions, soonest first. ``with_people``: with each session's
    program and clinician (the family page names them); the patient's home shows the
    sessions only, and the two joins were half of this read (2.5 -> 1.25 ms)."""
    related = (
        ("appointment__program", "appointment__clinician__user")
        if with_people
        else ("appointment",)
    )
    return (
        Attendance.objects.filter(
            patient=patient,
            starts_at__gte=timezone.now(),  # the index (patient, starts_at)
            appointment__is_cancelled=False,
        )
        .select_related(*related)
        .order_by("starts_at", "pk")[:limit]
    )


def recent_attendance(*, patient: Patient, limit: int = 10) -> QuerySet[Attendance]:
    return (
        Attendance.objects.filter(patient=patient, appointment__starts_at__lt=timezone.now())
        .select_related("appointment__program")
        .order_by("-appointment__starts_at")[:limit]
    )
