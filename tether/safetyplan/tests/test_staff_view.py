from __future__ import annotations

from typing import Any

from django.urls import reverse

from tether.privacy.models import AuditEvent, Purpose
from tether.safetyplan.services import safety_plan_save


def _url(cast: Any) -> Any:
    return reverse("safety_plan:staff_view", args=[cast.patient.patient.pk])


def test_it_shows_the_plan_and_every_version(cast, client_as):
    for n, author in enumerate((cast.patient, cast.assigned_clinician), start=0):
        safety_plan_save(
            patient=cast.patient.patient,
            author=author,
            content={"warning_signs": f"Sign {n}"},
            based_on=n,
            purpose=Purpose.TREATMENT,
        )
    body = client_as(cast.on_call).get(_url(cast)).content.decode()
    assert "Sign 1" in body
    assert cast.patient.get_full_name() in body
    assert cast.assigned_clinician.get_full_name() in body
    assert 'href="tel:988"' in body
    edit = reverse("safety_plan:staff_edit", args=[cast.patient.patient.pk])
    assert edit not in body  # on call may read the plan, not change it
    assert edit in client_as(cast.assigned_clinician).get(_url(cast)).content.decode()


def test_it_is_linked_from_the_staff_patient_page(cast, client_as):
    url = reverse("staff:patient_detail", args=[cast.patient.patient.pk])
    body = client_as(cast.assigned_clinician).get(url).content.decode()
    assert _url(cast) in body
    body = client_as(cast.front_desk).get(url).content.decode()
    assert _url(cast) not in body  # front desk has no access to shared records


def test_it_checks_access(cast, client_as):
    assert client_as(cast.assigned_clinician).get(_url(cast)).status_code == 200
    for persona in ("patient", "front_desk", "unassigned_clinician", "other_org_clinician"):
        assert client_as(getattr(cast, persona)).get(_url(cast)).status_code == 404
    denied = AuditEvent.objects.filter(
        category="shared", outcome="denied", patient=cast.patient.patient
    )
    assert denied.count() == 2  # front desk and the unassigned clinician (same org)
