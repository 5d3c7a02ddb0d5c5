"""``manage.py verify_audit`` catches every edit, deletion and insertion, and names the row.

Tampering needs audit maintenance mode (the triggers refuse it otherwise); on
PostgreSQL the test role is a superuser, which maintenance mode requires.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tether.privacy import audit, chain
from tether.privacy.maintenance import audit_maintenance
from tether.privacy.models import GENESIS_HASH, AuditChainHead, AuditEvent, AuditSeal, Purpose
from tether.privacy.policy import Action, Category
from tether.privacy.sealer import seal_pending

_OWN = object()


def _events(cast, count: int, user=None, patient=_OWN, *, seal: bool = True) -> list[AuditEvent]:
    """``count`` events, sealed; by default a clinician viewing the cast patient."""
    events = [
        audit.record(
            request=None,
            actor=user or cast.assigned_clinician,
            patient=cast.patient.patient if patient is _OWN else patient,
            action=Action.VIEW,
            category=Category.GENERAL,
            purpose=Purpose.TREATMENT,
            outcome=AuditEvent.Outcome.ALLOWED,
        )
        for _ in range(count)
    ]
    if seal:
        seal_pending()
    return events


def _seal(event: AuditEvent) -> AuditSeal:
    return AuditSeal.objects.get(event=event)


def _verify(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("verify_audit", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _broken(*args: str) -> tuple[str, str]:
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("verify_audit", *args, stdout=io.StringIO(), stderr=err)
    return str(raised.value), err.getvalue()


def test_it_passes_an_intact_trail_with_a_summary(cast):
    events = _events(cast, 5)
    _events(cast, 2, user=cast.other_org_clinician, patient=None)
    out, _ = _verify()
    assert f"riverbend (organization {cast.organization.pk}): 5 sealed events intact" in out
    assert f"head hash {_seal(events[-1]).row_hash}" in out
    assert f"elsewhere (organization {cast.other_organization.pk}): 2 sealed events intact" in out
    assert "OK: 7 events in 2 chain(s)" in out


def test_it_passes_an_empty_trail(db):
    out, _ = _verify()
    assert "OK: 0 events in 0 chain(s)" in out


def test_it_checks_events_the_sealer_has_not_reached(cast):
    _events(cast, 3)
    waiting = _events(cast, 2, seal=False)
    out, _ = _verify()
    assert "3 sealed events intact" in out
    assert "2 event(s) not sealed yet" in out
    assert "OK: 5 events" in out
    with audit_maintenance():
        AuditEvent.objects.filter(pk=waiting[1].pk).update(actor_role="privacy_officer")
    message, _ = _broken()
    assert f"unsealed event id {waiting[1].pk} was changed" in message


def test_it_warns_when_sealing_is_behind(cast, settings):
    settings.TETHER_AUDIT_SEAL_LAG_SECONDS = 10
    waiting = _events(cast, 1, seal=False)
    AuditEvent.objects.filter(pk=waiting[0].pk)  # recorded now: not behind yet
    out, _ = _verify()
    assert "WARNING" not in out
    settings.TETHER_AUDIT_SEAL_LAG_SECONDS = -1
    out, _ = _verify()
    assert "WARNING: sealing is behind" in out


def test_it_verifies_a_chain_written_before_sealing_existed(cast):
    """Version-1 rows (hash over the row with its sequence) followed by version-2 seals."""
    organization = cast.organization.pk
    previous = GENESIS_HASH
    for sequence in (1, 2):
        event = AuditEvent(
            organization_id=organization,
            chain_key=organization,
            occurred_at=timezone.now(),
            actor_id=cast.clinical_lead.pk,
            actor_role="clinical_lead",
            patient_id=cast.patient.patient.pk,
            action="view",
            category="general",
            purpose="TREAT",
            outcome="allowed",
        )
        event.save(force_insert=True)
        values = [getattr(event, name) for name in chain.V1_FIELDS if name != "sequence"]
        row_hash = chain.v1_hash(previous, [values[0], sequence, *values[1:]])
        AuditSeal.objects.create(
            event=event,
            chain_key=organization,
            sequence=sequence,
            previous_hash=previous,
            row_hash=row_hash,
            version=AuditSeal.Version.V1,
        )
        previous = row_hash
    AuditChainHead.objects.create(
        chain_key=organization, organization_id=organization, last_sequence=2, last_hash=previous
    )
    later = _events(cast, 2)
    assert _seal(later[0]).previous_hash == previous
    out, _ = _verify()
    assert "4 sealed events intact" in out
    with audit_maintenance():
        AuditEvent.objects.filter(chain_key=organization).order_by("pk").filter(
            pk=AuditSeal.objects.get(chain_key=organization, sequence=1).event_id
        ).update(actor_role="privacy_officer")
    message, _ = _broken()
    assert "sequence 1" in message and "changed" in message


def test_it_catches_an_edited_row(cast):
    events = _events(cast, 5)
    with audit_maintenance():
        AuditEvent.objects.filter(pk=events[2].pk).update(actor_role="privacy_officer")
    message, err = _broken()
    assert f"sequence 3 (id {events[2].pk}): changed" in message
    assert "riverbend" in err


def test_it_catches_an_edited_row_with_a_fresh_entry_hash(cast):
    events = _events(cast, 3)
    target = AuditEvent.objects.get(pk=events[1].pk)
    target.actor_role = "privacy_officer"
    with audit_maintenance():
        AuditEvent.objects.filter(pk=target.pk).update(
            actor_role="privacy_officer", entry_hash=chain.entry_hash(target)
        )
    message, _ = _broken()
    assert f"sequence 2 (id {events[1].pk}): changed" in message
    assert "seal no longer matches" in message


def test_it_catches_an_edited_timestamp(cast):
    events = _events(cast, 3)
    with audit_maintenance():
        AuditEvent.objects.filter(pk=events[1].pk).update(
            occurred_at=events[1].occurred_at.replace(microsecond=0)
        )
    message, _ = _broken()
    assert f"sequence 2 (id {events[1].pk}): changed" in message


def _delete(*events: AuditEvent) -> None:
    with audit_maintenance():
        AuditSeal.objects.filter(event__in=events).delete()
        AuditEvent.objects.filter(pk__in=[event.pk for event in events]).delete()


def test_it_catches_a_deleted_row(cast):
    events = _events(cast, 5)
    _delete(events[1])
    message, _ = _broken()
    assert "first bad row sequence 2" in message
    assert "deleted" in message
    assert f"sequence 2 missing before sequence 3 (id {events[2].pk})" in message


def test_it_catches_rows_deleted_from_the_tail(cast):
    events = _events(cast, 5)
    _delete(events[3], events[4])
    message, _ = _broken()
    assert "sequences 4-5 missing at the end of the chain" in message


def _forged_event(at: AuditEvent, cast) -> AuditEvent:
    forged = AuditEvent(
        organization_id=at.organization_id,
        chain_key=at.chain_key,
        occurred_at=at.occurred_at,
        actor_id=cast.clinical_lead.pk,
        actor_role="clinical_lead",
        patient_id=at.patient_id,
        action="view",
        category="general",
        purpose="TREAT",
        outcome="allowed",
    )
    forged.entry_hash = chain.entry_hash(forged)
    forged.save(force_insert=True)
    return forged


def _forged_seal(forged: AuditEvent, *, sequence: int, previous_hash: str) -> AuditSeal:
    return AuditSeal.objects.create(
        event=forged,
        chain_key=forged.chain_key,
        sequence=sequence,
        previous_hash=previous_hash,
        row_hash=chain.seal_hash(
            previous_hash,
            chain_key=forged.chain_key,
            sequence=sequence,
            event_id=forged.pk,
            entry=forged.entry_hash or "",
        ),
        version=AuditSeal.Version.V2,
    )


def test_it_catches_an_inserted_row(cast):
    """Shift the seals from sequence 3 on by one and slip a well-formed row into the
    gap, chained to the row before it: the best a forger can do without rewriting the
    rest."""
    events = _events(cast, 5)
    at = _seal(events[2])
    with audit_maintenance():
        later = AuditSeal.objects.filter(chain_key=at.chain_key, sequence__gte=at.sequence)
        for row in later.order_by("-sequence"):
            AuditSeal.objects.filter(pk=row.pk).update(sequence=row.sequence + 1)
        AuditChainHead.objects.filter(pk=at.chain_key).update(last_sequence=6)
    forged = _forged_event(events[2], cast)
    _forged_seal(forged, sequence=3, previous_hash=_seal(events[1]).row_hash)
    message, _ = _broken()
    assert f"first bad row sequence 3 (id {forged.pk}): inserted" in message


def test_it_catches_a_row_appended_behind_the_sealers_back(cast):
    events = _events(cast, 3)
    forged = _forged_event(events[-1], cast)
    # INSERT is allowed: only the sealer moves the head.
    _forged_seal(forged, sequence=4, previous_hash=_seal(events[-1]).row_hash)
    message, _ = _broken()
    assert f"sequence 4 (id {forged.pk}): inserted" in message
    assert "beyond the chain head" in message


def test_it_catches_a_seal_rewritten_with_a_fresh_hash(cast):
    events = _events(cast, 4)
    target = _seal(events[1])
    with audit_maintenance():
        AuditSeal.objects.filter(pk=target.pk).update(row_hash="f" * 64)
    message, _ = _broken()
    assert "sequence 2" in message


def test_it_names_the_broken_chain_and_still_checks_the_others(cast):
    events = _events(cast, 3)
    _events(cast, 2, user=cast.other_org_clinician, patient=None)
    with audit_maintenance():
        AuditEvent.objects.filter(pk=events[0].pk).update(purpose="HSYSADMIN")
    _, err = _broken()
    assert f"BROKEN riverbend (organization {cast.organization.pk})" in err
    assert "elsewhere" not in err


def test_it_verifies_one_organization_on_request(cast):
    events = _events(cast, 2)
    _events(cast, 1, user=cast.other_org_clinician, patient=None)
    with audit_maintenance():
        AuditEvent.objects.filter(pk=events[0].pk).update(purpose="HSYSADMIN")
    out, _ = _verify("--organization", "elsewhere")
    assert "OK: 1 events in 1 chain(s)" in out
    _broken("--organization", str(cast.organization.pk))


@pytest.mark.parametrize("count", [1, 60])
def test_events_written_together_in_one_statement_verify_as_written(cast, count):
    """A list page's events (``written_together``: one statement on PostgreSQL, as column
    arrays) are stored exactly as they were hashed, address or none, and verify."""
    from tether.testing.cast import make_patient

    patients = [cast.patient.patient] + [
        make_patient(
            cast.organization, cast.iop, f"together{i}", first_name="T", last_name=f"T{i}"
        ).patient
        for i in range(count - 1)
    ]
    with audit.written_together():
        built = [
            audit.event_for(
                request=None,
                actor=cast.assigned_clinician,
                patient=patient,
                action=Action.VIEW,
                category=Category.SELF_REPORT,
                purpose=Purpose.TREATMENT,
                object_type="staff.caseload",
                relation="care_team" if index % 2 else "",
            )
            for index, patient in enumerate(patients)
        ]
        built[0].client_address = "2001:db8::1"
        audit.append_many(built)
        assert not AuditEvent.objects.filter(object_type="staff.caseload").exists()
    stored = list(AuditEvent.objects.filter(object_type="staff.caseload").order_by("pk"))
    assert [e.patient_id for e in stored] == [p.pk for p in patients]
    assert stored[0].client_address == "2001:db8::1"
    assert all(e.client_address is None for e in stored[1:])
    for event in stored:
        assert event.entry_hash == chain.entry_hash(event)
    seal_pending()
    out, _err = _verify()
    assert f"{count} sealed events intact" in out, out
