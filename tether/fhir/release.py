"""Releasing resources to a registered system: the audit trail and the §2.25 accounting.

Every patient whose resources a response carries gets one audit event (the client as
actor, ``Action.DISCLOSE``: the records leave the program; purpose of use from the
client's recipient kind). A Part 2 patient's released resources are also recorded as a
``Disclosure`` under the consent that allowed them, carrying the §2.32 notice, so the
patient sees them in their accounting of disclosures. All in one transaction, built in
a fixed number of queries whatever the page's length.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from fhir.resources.R4B.resource import Resource

from tether.consent.models import ConsentDirective, Disclosure, Recipient
from tether.consent.notice import PART2_NOTICE
from tether.fhir.models import FhirClient
from tether.patients.models import Patient
from tether.privacy import audit
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category

ACTOR_ROLE = "fhir_client"


def actor(client: FhirClient) -> audit.SystemActor:
    return audit.SystemActor(
        role=ACTOR_ROLE,
        reference=f"fhir_client:{client.pk}",
        organization_id=client.organization_id,
    )


def purpose_of_use(client: FhirClient) -> Purpose:
    if client.recipient.kind == Recipient.Kind.HEALTH_PLAN:
        return Purpose.PAYMENT
    return Purpose.TREATMENT


def _patient_of(resource: Resource) -> int | None:
    if resource.get_resource_type() == "Patient":
        return int(resource.id)  # type: ignore[arg-type]  # our own ids are digits
    subject = getattr(resource, "subject", None)
    reference = getattr(subject, "reference", None)
    if reference is None:
        for participant in getattr(resource, "participant", None) or []:
            ref = getattr(participant.actor, "reference", None)
            if ref and ref.startswith("Patient/"):
                reference = ref
                break
    if reference and reference.startswith("Patient/"):
        return int(reference.removeprefix("Patient/"))
    return None


def _consents(recipient: Recipient, patient_ids: set[int]) -> dict[int, ConsentDirective]:
    """The Part 2 consent in force for each patient, the newest as ``gate.consent_for``
    picks it: the consents of ``gate.consented_patient_ids`` (in force, naming this
    recipient or a TPO class covering its kind), so the disclosure records the consent
    that let the resource out (one query)."""
    from tether.privacy.gate import consented_patient_ids

    in_force = consented_patient_ids(recipient, Category.PART2).filter(patient_id__in=patient_ids)
    found: dict[int, ConsentDirective] = {}
    for consent in ConsentDirective.objects.filter(
        pk__in=in_force.values_list("pk", flat=True)
    ).order_by("patient_id", "-signed_at"):
        found.setdefault(consent.patient_id, consent)
    return found


def release(
    *,
    request: HttpRequest | None,
    client: FhirClient,
    resources: list[Resource],
    part2: set[int],
    base_category: Category,
) -> list[Disclosure]:
    """Audit a response's resources and record its Part 2 disclosures (one transaction)."""
    by_patient: dict[int, list[Resource]] = defaultdict(list)
    for resource in resources:
        patient_id = _patient_of(resource)
        if patient_id is not None:
            by_patient[patient_id].append(resource)
    return record_release(
        request=request,
        client=client,
        object_types={
            pid: f"fhir.{items[0].get_resource_type().lower()}" for pid, items in by_patient.items()
        },
        part2=part2,
        base_category=base_category,
        content_of=lambda pid: "\n".join(
            r.model_dump_json(exclude_none=True) for r in by_patient[pid]
        ),
    )


def patient_of_json(data: dict[str, Any]) -> int | None:
    """The patient a resource's FHIR JSON is about (as ``_patient_of``)."""
    if data["resourceType"] == "Patient":
        return int(data["id"])
    reference = (data.get("subject") or {}).get("reference")
    if reference is None:
        for participant in data.get("participant") or []:
            ref = (participant.get("actor") or {}).get("reference")
            if ref and ref.startswith("Patient/"):
                reference = ref
                break
    if reference and reference.startswith("Patient/"):
        return int(reference.removeprefix("Patient/"))
    return None


def record_release(
    *,
    request: HttpRequest | None,
    client: FhirClient,
    object_types: dict[int, str],
    part2: set[int],
    base_category: Category,
    content_of: Callable[[int], str],
) -> list[Disclosure]:
    """One audit event per patient released (``object_types``: patient → the resource
    type, ``fhir.observation``), and a ``Disclosure`` with the notice for each Part 2
    patient under the consent that allowed it, holding ``content_of(patient)`` (the
    released resources' JSON). One transaction, a fixed number of queries."""
    if not object_types:
        return []
    patients = {
        p.pk: p
        for p in Patient.objects.filter(pk__in=object_types, organization_id=client.organization_id)
    }
    purpose = purpose_of_use(client)
    system = actor(client)
    part2_here = {pid for pid in object_types if pid in part2}
    consents = _consents(client.recipient, part2_here) if part2_here else {}
    now = timezone.now()
    with transaction.atomic():
        audit.append_many(
            [
                audit.event_for(
                    request=request,
                    actor=system,
                    patient=patients[pid],
                    action=Action.DISCLOSE,
                    category=Category.PART2 if pid in part2 else base_category,
                    purpose=purpose,
                    object_type=object_type,
                    relation="consent" if pid in part2 else "",
                )
                for pid, object_type in sorted(object_types.items())
                if pid in patients
            ]
        )
        disclosures = Disclosure.objects.bulk_create(
            [
                Disclosure(
                    organization_id=client.organization_id,
                    patient=patients[pid],
                    recipient=client.recipient,
                    consent=consents[pid],
                    kind=Disclosure.Kind.FHIR_API,
                    category=Category.PART2.value,
                    purpose=consents[pid].purpose,
                    content=content_of(pid),
                    notice=PART2_NOTICE,
                    fhir_client=client,
                    disclosed_at=now,
                )
                for pid in sorted(part2_here)
                if pid in patients and pid in consents
            ]
        )
    return disclosures


def record_refused(
    *,
    request: HttpRequest | None,
    client: FhirClient | None,
    patient: Patient | None = None,
    category: Category = Category.GENERAL,
    action: Action = Action.DISCLOSE,
    organization_id: int | None = None,
) -> None:
    """A refused call (bad token, scope, unknown or withheld record): a denied event."""
    who: audit.SystemActor | None = actor(client) if client is not None else None
    audit.record(
        request=request,
        actor=who,
        patient=patient,
        action=action,
        category=category,
        purpose=purpose_of_use(client) if client is not None else Purpose.TREATMENT,
        outcome=AuditEvent.Outcome.DENIED,
    )
