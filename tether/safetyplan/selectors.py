"""Reads of the safety plan. Callers have already asked the gate (category ``shared``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tether.crisis.resources import NATIONAL_CONTACTS, CrisisContact, program_contacts
from tether.organizations.models import Program
from tether.patients.models import Episode
from tether.safetyplan.models import SafetyPlanVersion

if TYPE_CHECKING:
    from tether.patients.models import Patient


def latest_version(*, patient: Patient) -> SafetyPlanVersion | None:
    return (
        SafetyPlanVersion.objects.filter(plan__patient=patient)
        .select_related("author")
        .order_by("-number")
        .first()
    )


def versions(*, patient: Patient, limit: int = 20) -> list[SafetyPlanVersion]:
    return list(
        SafetyPlanVersion.objects.filter(plan__patient=patient)
        .select_related("author")
        .order_by("-number")[:limit]
    )


def patient_program(*, patient: Patient) -> Program | None:
    episode = (
        Episode.objects.filter(patient=patient, status=Episode.Status.ACTIVE)
        .select_related("program")
        .order_by("-admitted_on")
        .first()
    )
    return episode.program if episode else None


def always_on_contacts(*, patient: Patient) -> list[CrisisContact]:
    """The program's crisis line(s), then 988, 911 and the Crisis Text Line: on every
    safety plan, always."""
    program = patient_program(patient=patient)
    contacts = program_contacts(program) if program is not None else []
    # 988 (call or text), 911, and the Crisis Text Line for those who would rather text.
    # 911 is call-only here: text-to-911 is not available everywhere.
    national = list(NATIONAL_CONTACTS)
    return [*contacts, *national]
