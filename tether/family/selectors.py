"""Reads of family updates and family members' answers. Callers have already asked the gate for the patient."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tether.family.models import FamilyAnswers, FamilyUpdate
from tether.patients.models import Proxy
from tether.privacy.policy import Category

if TYPE_CHECKING:
    from tether.accounts.models import User
    from tether.homework.models import Assignment
    from tether.patients.models import Patient


def for_family(*, patient: Patient, limit: int = 10) -> list[FamilyUpdate]:
    """What a family member with the scope reads: ``general`` updates only, newest first."""
    return list(
        FamilyUpdate.objects.filter(patient=patient, record_category=Category.GENERAL)
        .select_related("author")
        .order_by("-created_at", "-id")[:limit]
    )


def update_readers(*, patient: Patient) -> int:
    """How many family members may read the updates now (active, with the scope)."""
    return Proxy.objects.filter(patient=patient, is_active=True, scope_family_updates=True).count()


def sent_for(*, patient: Patient) -> list[FamilyUpdate]:
    """Every update written for this patient's family (the patient's and staff's view)."""
    return list(
        FamilyUpdate.objects.filter(patient=patient)
        .select_related("author")
        .order_by("-created_at", "-id")
    )


def own_answers(*, assignment: Assignment, author: User) -> dict[str, Any]:
    """What this family member wrote for their part (never anyone else's)."""
    row = FamilyAnswers.objects.filter(assignment=assignment, author=author).first()
    return row.as_dict() if row is not None else {}


def answers_for_team(*, assignment: Assignment) -> list[dict[str, Any]]:
    """Each family member's part of a family assignment, for the care team's page:
    who wrote it (name and relationship) and their answers step by step."""
    from tether.homework.selectors import answered_steps

    rows = list(
        FamilyAnswers.objects.filter(assignment=assignment)
        .select_related("author")
        .order_by("created_at", "pk")
    )
    if not rows:
        return []
    relationships = {
        p.user_id: p.get_relationship_display()
        for p in Proxy.objects.filter(
            patient_id=assignment.patient_id, user_id__in=[r.author_id for r in rows]
        )
    }
    return [
        {
            "answers": row,
            "author": row.author,
            "relationship": relationships.get(row.author_id, ""),
            "steps": answered_steps(assignment=assignment, answers=row.as_dict()),
        }
        for row in rows
    ]
