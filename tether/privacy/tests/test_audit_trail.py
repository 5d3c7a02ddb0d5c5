"""The audit writer: what an event holds, its chain, and its transaction."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from tether.patients.models import Patient
from tether.privacy import audit, chain
from tether.privacy.models import (
    GENESIS_HASH,
    SYSTEM_CHAIN,
    AuditChainHead,
    AuditEvent,
    AuditPending,
    AuditSeal,
    Purpose,
)
from tether.privacy.policy import Action, Category, Relation
from tether.privacy.sealer import seal_pending


def _record(actor, patient=None, *, outcome=AuditEvent.Outcome.ALLOWED, request=None) -> AuditEvent:
    return audit.record(
        request=request,
        actor=actor,
        patient=patient,
        action=Action.VIEW,
        category=Category.GENERAL,
        purpose=Purpose.TREATMENT,
        outcome=outcome,
    )


def _seal_of(event: AuditEvent) -> AuditSeal:
    return AuditSeal.objects.get(event=event)


def test_it_numbers_each_organizations_events_in_its_own_chain_when_sealed(cast):
    here = cast.patient.patient
    first = _record(cast.assigned_clinician, here)
    elsewhere = _record(cast.other_org_clinician)
    second = _record(cast.clinical_lead, here)
    # Recorded, waiting for the sealer: no place in a chain yet, and no chain head.
    assert not AuditSeal.objects.exists()
    assert not AuditChainHead.objects.exists()
    assert AuditPending.objects.count() == 3

    assert seal_pending() == 3

    assert not AuditPending.objects.exists()
    assert (_seal_of(first).chain_key, _seal_of(first).sequence) == (cast.organization.pk, 1)
    assert (_seal_of(second).chain_key, _seal_of(second).sequence) == (cast.organization.pk, 2)
    assert (_seal_of(elsewhere).chain_key, _seal_of(elsewhere).sequence) == (
        cast.other_organization.pk,
        1,
    )
    head = AuditChainHead.objects.get(pk=cast.organization.pk)
    assert (head.last_sequence, head.last_hash) == (2, _seal_of(second).row_hash)
    # Sealing again finds nothing to do and changes nothing.
    assert seal_pending() == 0
    assert AuditChainHead.objects.get(pk=cast.organization.pk).last_sequence == 2


def test_it_chains_each_sealed_event_to_the_one_before(cast):
    events = [_record(cast.assigned_clinician, cast.patient.patient) for _ in range(3)]
    seal_pending()
    seals = [_seal_of(event) for event in events]
    assert seals[0].previous_hash == GENESIS_HASH
    assert seals[1].previous_hash == seals[0].row_hash
    assert seals[2].previous_hash == seals[1].row_hash
    stored = AuditEvent.objects.get(pk=events[2].pk)
    assert stored.entry_hash == chain.entry_hash(stored)
    assert seals[2].row_hash == chain.seal_hash(
        seals[1].row_hash,
        chain_key=cast.organization.pk,
        sequence=3,
        event_id=stored.pk,
        entry=stored.entry_hash,
    )


def test_it_continues_the_chain_across_sealing_batches(cast):
    for _ in range(5):
        _record(cast.assigned_clinician, cast.patient.patient)
    assert seal_pending(batch_size=2) == 5
    sequences = list(
        AuditSeal.objects.filter(chain_key=cast.organization.pk)
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )
    assert sequences == [1, 2, 3, 4, 5]
    assert chain.verify_chain(cast.organization.pk).intact


def test_it_puts_events_without_an_organization_in_the_system_chain(db):
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.10")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    event = audit.record_denied(
        request,
        patient=None,
        category=Category.GENERAL,
        action=Action.VIEW,
        purpose=Purpose.TREATMENT,
    )
    assert event.organization_id is None
    seal_pending()
    assert (_seal_of(event).chain_key, _seal_of(event).sequence) == (SYSTEM_CHAIN, 1)
    assert (event.actor_id, event.actor_role) == (None, "anonymous")
    assert event.client_address == "192.0.2.10"


def test_it_holds_ids_and_codes_only(cast, client_as):
    patient = cast.patient.patient
    client_as(cast.assigned_clinician).get(reverse("staff:patient_detail", args=[patient.pk]))
    event = AuditEvent.objects.filter(patient=patient).latest("pk")
    values = {
        field.attname: getattr(event, field.attname) for field in AuditEvent._meta.concrete_fields
    }
    text = " ".join(str(value) for value in values.values())
    # The birth date whole (its year alone turned up inside the moment's microseconds:
    # "…:20.119904" holds "1990").
    born = patient.date_of_birth
    for phi in ("Maria", "Garcia", "MRN-maria.g", born.isoformat(), f"{born:%m/%d/%Y}"):
        assert phi not in text
    assert values["actor_id"] == cast.assigned_clinician.pk
    assert values["actor_role"] == "clinician"
    assert values["relation"] == Relation.CARE_TEAM
    assert values["purpose"] == Purpose.TREATMENT
    assert values["outcome"] == AuditEvent.Outcome.ALLOWED


def test_it_records_who_acts_as_a_proxy(cast, client_as):
    client_as(cast.parent).get(reverse("portal:family_home"))
    event = AuditEvent.objects.filter(actor=cast.parent).latest("pk")
    assert (event.acting_as, event.relation, event.actor_role) == ("proxy", "proxy", "proxy")
    assert event.patient_id == cast.adolescent.patient.pk


def test_it_leaves_no_event_when_the_change_rolls_back(cast):
    before = AuditEvent.objects.count()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        _record(cast.assigned_clinician, cast.patient.patient)
        1 / 0  # noqa: B018 - the change fails after its event was written
    assert AuditEvent.objects.count() == before
    assert not AuditPending.objects.exists()
    # The chain carries on from where it was, without a gap.
    event = _record(cast.assigned_clinician, cast.patient.patient)
    seal_pending()
    assert _seal_of(event).sequence == 1


def test_it_refuses_to_write_a_denial_that_an_outer_transaction_could_erase(cast):
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        _record(cast.front_desk, cast.patient.patient, outcome=AuditEvent.Outcome.DENIED)


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_denial_although_the_request_fails(client):
    from tether.testing.cast import build_cast, sign_in

    cast = build_cast()
    patient = cast.other_patient.patient
    response = sign_in(client, cast.assigned_clinician).get(
        reverse("staff:patient_detail", args=[patient.pk])
    )
    assert response.status_code == 404
    denied = AuditEvent.objects.get(outcome=AuditEvent.Outcome.DENIED)
    assert (denied.actor_id, denied.patient_id) == (cast.assigned_clinician.pk, patient.pk)


def test_it_takes_the_actor_and_address_from_the_request_context(cast):
    with audit.audit_context(user=cast.front_desk, client_address="203.0.113.9"):
        event = _record(None, cast.patient.patient)
    assert (event.actor_id, event.actor_role) == (cast.front_desk.pk, "front_desk")
    assert event.client_address == "203.0.113.9"
    assert _record(None, cast.patient.patient).actor_role == "system"


def test_it_records_the_address_of_a_service_called_from_a_view(cast, client_as):
    client = client_as(cast.front_desk)
    today = timezone.localdate()
    response = client.post(
        reverse("staff:patient_create"),
        {
            "first_name": "Ana",
            "last_name": "Lopez",
            "date_of_birth": "1991-02-03",
            "record_number": "MRN-NEW-1",
            "program": cast.iop.pk,
            "level_of_care": "iop",
            "admitted_on": today.isoformat(),
        },
        REMOTE_ADDR="198.51.100.23",
    )
    assert response.status_code == 302
    patient = Patient.objects.get(record_number="MRN-NEW-1")
    event = AuditEvent.objects.get(patient=patient, action=Action.CREATE)
    # patient_register records with request=None: the middleware's context fills in.
    assert event.client_address == "198.51.100.23"
    assert event.actor_id == cast.front_desk.pk


def test_it_reads_the_address_behind_trusted_proxies_only(settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    settings.TETHER_TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.77"
    )
    assert audit.client_address(request) == "203.0.113.77"
    # The same header from a client that is not the proxy is not believed.
    direct = RequestFactory().get(
        "/", REMOTE_ADDR="198.51.100.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.77"
    )
    assert audit.client_address(direct) == "198.51.100.5"
    settings.AXES_IPWARE_PROXY_COUNT = 0
    assert audit.client_address(request) == "10.0.0.2"


def test_it_stores_addresses_in_one_form():
    assert chain.normalize_address("::ffff:192.0.2.1") == "192.0.2.1"
    assert chain.normalize_address("2001:DB8:0:0:0:0:0:1") == "2001:db8::1"
    assert chain.normalize_address("not an address") is None


def test_it_keeps_the_people_and_patients_it_names(cast):
    """The trail's references are not the database's foreign keys (migration 0006):
    deleting a patient or a person an event names is still refused, and the event keeps
    its ids."""
    from django.db.models import ProtectedError

    from tether.accounts.models import User

    patient = Patient.objects.create(
        organization=cast.organization,
        first_name="Only",
        last_name="Named",
        date_of_birth="1990-01-01",
        record_number="NAMED-1",
    )
    person = User.objects.create_user(
        username="named.once", password="tether-demo-2026", organization=cast.organization
    )
    event = _record(person, patient)
    for named in (patient, person):
        with pytest.raises(ProtectedError) as refused:
            named.delete()
        assert event in refused.value.protected_objects
    event.refresh_from_db()
    assert (event.patient_id, event.actor_id) == (patient.pk, person.pk)
