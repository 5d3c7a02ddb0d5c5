"""A safety plan is labelled at capture: Part 2 in a program that treats substance use."""

from __future__ import annotations

from typing import Any

from tether.privacy.models import AuditEvent, Purpose
from tether.safetyplan.services import safety_plan_save


def _save(cast: Any) -> Any:
    return safety_plan_save(
        patient=cast.patient.patient,
        author=cast.patient,
        content={"warning_signs": "Not sleeping"},
        based_on=0,
        purpose=Purpose.PATIENT_REQUEST,
    ).version


def test_a_plan_in_a_general_program_is_shared(cast):
    assert _save(cast).record_category == "shared"


def test_a_plan_in_a_part2_program_is_part2(cast):
    cast.iop.treats_substance_use = True
    cast.iop.save(update_fields=["treats_substance_use"])
    version = _save(cast)
    assert version.record_category == "part2"
    assert AuditEvent.objects.filter(
        patient=cast.patient.patient, action="create", category="part2"
    ).exists()
