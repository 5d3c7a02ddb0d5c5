"""Writes to the safety plan. Every save adds a version; nothing is overwritten."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction

from tether.privacy import audit
from tether.privacy.gate import record_category_for
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category
from tether.safetyplan.models import STEP_FIELDS, SafetyPlan, SafetyPlanVersion

if TYPE_CHECKING:
    from tether.accounts.models import User
    from tether.patients.models import Patient


class StaleVersionError(Exception):
    """Someone saved a newer version since this edit began."""

    def __init__(self, latest: SafetyPlanVersion) -> None:
        super().__init__("The safety plan changed since this edit began.")
        self.latest = latest


@dataclass(frozen=True)
class SaveResult:
    version: SafetyPlanVersion
    changed: bool


def safety_plan_save(
    *,
    patient: Patient,
    author: User,
    content: dict[str, str],
    based_on: int,
    purpose: Purpose,
) -> SaveResult:
    """Save ``content`` as the next version of the patient's plan.

    ``based_on`` is the version number the editor started from (0 for a new
    plan). If a newer version exists, ``StaleVersionError`` is raised and nothing
    is saved, so the caller can show both and ask. Saving unchanged text adds no
    version.
    """
    with transaction.atomic():
        plan, _created = SafetyPlan.objects.select_for_update(no_key=True).get_or_create(
            patient=patient, defaults={"organization_id": patient.organization_id}
        )
        latest = plan.versions.order_by("-number").first()
        latest_number = latest.number if latest else 0
        if latest is not None and based_on != latest_number:
            raise StaleVersionError(latest)
        clean = {name: content.get(name, "").strip() for name in STEP_FIELDS}
        if latest is not None and latest.content() == clean:
            return SaveResult(latest, changed=False)
        version = SafetyPlanVersion.objects.create(
            organization_id=patient.organization_id,
            plan=plan,
            number=latest_number + 1,
            author=author,
            record_category=record_category_for(patient, Category.SHARED),
            **clean,
        )
        audit.record(
            request=None,
            actor=author,
            patient=patient,
            action=Action.CREATE if latest is None else Action.UPDATE,
            category=Category(version.record_category),
            purpose=purpose,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=version,
        )
    return SaveResult(version, changed=True)
