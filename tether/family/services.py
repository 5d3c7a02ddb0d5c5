"""Writing progress updates for families; the write and its audit event in one transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from tether.family.models import MAX_UPDATE_LENGTH, FamilyUpdate
from tether.privacy import audit
from tether.privacy.gate import family_category_for
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category

if TYPE_CHECKING:
    from tether.accounts.models import User
    from tether.patients.models import Patient


class FamilyUpdateError(ValueError):
    """The update cannot be sent: ``empty``, ``too_long`` or ``part2`` (a program that
    treats substance use: nothing goes to families without the patient's written consent)."""


def family_update_send(*, patient: Patient, author: User, body: str) -> FamilyUpdate:
    text = (body or "").strip()
    if not text:
        raise FamilyUpdateError("empty")
    if len(text) > MAX_UPDATE_LENGTH:
        raise FamilyUpdateError("too_long")
    category = family_category_for(patient)
    if category == Category.PART2:
        raise FamilyUpdateError("part2")
    with transaction.atomic():
        update = FamilyUpdate.objects.create(
            organization_id=patient.organization_id,
            patient=patient,
            author=author,
            body=text,
            record_category=category.value,
        )
        audit.record(
            request=None,
            actor=author,
            patient=patient,
            action=Action.CREATE,
            category=category,
            purpose=Purpose.TREATMENT,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=update,
        )
    return update
