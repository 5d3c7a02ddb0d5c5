"""Reads of family updates. Callers have already asked the gate for the patient."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tether.family.models import FamilyUpdate
from tether.privacy.policy import Category

if TYPE_CHECKING:
    from tether.patients.models import Patient


def for_family(*, patient: Patient, limit: int = 10) -> list[FamilyUpdate]:
    """What a family member with the scope reads: ``general`` updates only, newest first."""
    return list(
        FamilyUpdate.objects.filter(patient=patient, record_category=Category.GENERAL)
        .select_related("author")
        .order_by("-created_at", "-id")[:limit]
    )


def sent_for(*, patient: Patient) -> list[FamilyUpdate]:
    """Every update written for this patient's family (the patient's and staff's view)."""
    return list(
        FamilyUpdate.objects.filter(patient=patient)
        .select_related("author")
        .order_by("-created_at", "-id")
    )
