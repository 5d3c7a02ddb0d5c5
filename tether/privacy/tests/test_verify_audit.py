"""``manage.py verify_audit`` catches every edit, deletion and insertion, and names the row.

Tampering needs audit maintenance mode (the triggers refuse it otherwise); on
PostgreSQL the test role is a superuser, which maintenance mode requires.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from tether.privacy import audit, chain
from tether.privacy.maintenance import audit_maintenance
from tether.privacy.models import AuditChainHead, AuditEvent, Purpose
from tether.privacy.policy import Action, Category

_OWN = object()


def _events(cast, count: int, user=None, patient=_OWN) -> list[AuditEvent]:
    """``count`` events; by default a clinician viewing the cast patient."""
    return [
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
    assert f"riverbend (organization {cast.organization.pk}): 5 events intact" in out
    assert f"head hash {events[-1].row_hash}" in out
    assert f"elsewhere (organization {cast.other_organization.pk}): 2 events intact" in out
    assert "OK: 7 events in 2 chain(s)" in out


def test_it_passes_an_empty_trail(db):
    out, _ = _verify()
    assert "OK: 0 events in 0 chain(s)" in out


def test_it_catches_an_edited_row(cast):
    events = _events(cast, 5)
    with audit_maintenance():
        AuditEvent.objects.filter(pk=events[2].pk).update(actor_role="privacy_officer")
    message, err = _broken()
    assert f"sequence 3 (id {events[2].pk}): changed" in message
    assert "riverbend" in err


def test_it_catches_an_edited_timestamp(cast):
    events = _events(cast, 3)
    with audit_maintenance():
        AuditEvent.objects.filter(pk=events[1].pk).update(
            occurred_at=events[1].occurred_at.replace(microsecond=0)
        )
    message, _ = _broken()
    assert f"sequence 2 (id {events[1].pk}): changed" in message


def test_it_catches_a_deleted_row(cast):
    events = _events(cast, 5)
    with audit_maintenance():
        AuditEvent.objects.filter(pk=events[1].pk).delete()
    message, _ = _broken()
    assert "first bad row sequence 2" in message
    assert "deleted" in message
    assert f"sequence 2 missing before sequence 3 (id {events[2].pk})" in message


def test_it_catches_rows_deleted_from_the_tail(cast):
    events = _events(cast, 5)
    with audit_maintenance():
        AuditEvent.objects.filter(pk__in=[events[3].pk, events[4].pk]).delete()
    message, _ = _broken()
    assert "sequences 4-5 missing at the end of the chain" in message


def _insert_forged_row(at: AuditEvent, cast) -> AuditEvent:
    """Shift the rows from ``at`` on by one and slip a well-formed row into the gap,
    chained to the row before it: the best a forger can do without rewriting the rest."""
    with audit_maintenance():
        later = AuditEvent.objects.filter(chain_key=at.chain_key, sequence__gte=at.sequence)
        for row in later.order_by("-sequence"):
            AuditEvent.objects.filter(pk=row.pk).update(sequence=row.sequence + 1)
        AuditChainHead.objects.filter(pk=at.chain_key).update(
            last_sequence=AuditChainHead.objects.get(pk=at.chain_key).last_sequence + 1
        )
    before = AuditEvent.objects.get(chain_key=at.chain_key, sequence=at.sequence - 1)
    forged = AuditEvent(
        organization_id=at.organization_id,
        chain_key=at.chain_key,
        sequence=at.sequence,
        occurred_at=at.occurred_at,
        actor_id=cast.clinical_lead.pk,
        actor_role="clinical_lead",
        patient_id=at.patient_id,
        action="view",
        category="general",
        purpose="TREAT",
        outcome="allowed",
        previous_hash=before.row_hash,
    )
    forged.row_hash = chain.compute_hash(forged.previous_hash, chain.canonical(forged))
    forged.save(force_insert=True)
    return forged


def test_it_catches_an_inserted_row(cast):
    events = _events(cast, 5)
    forged = _insert_forged_row(events[2], cast)
    message, _ = _broken()
    assert f"first bad row sequence 3 (id {forged.pk}): inserted" in message


def test_it_catches_a_row_appended_behind_the_writers_back(cast):
    events = _events(cast, 3)
    last = events[-1]
    forged = AuditEvent(
        organization_id=last.organization_id,
        chain_key=last.chain_key,
        sequence=4,
        occurred_at=last.occurred_at,
        actor_id=cast.clinical_lead.pk,
        actor_role="clinical_lead",
        patient_id=last.patient_id,
        action="view",
        category="general",
        purpose="TREAT",
        outcome="allowed",
        previous_hash=last.row_hash,
    )
    forged.row_hash = chain.compute_hash(forged.previous_hash, chain.canonical(forged))
    forged.save(force_insert=True)  # INSERT is allowed: only the writer moves the head
    message, _ = _broken()
    assert f"sequence 4 (id {forged.pk}): inserted" in message
    assert "beyond the chain head" in message


def test_it_catches_a_row_rewritten_with_a_fresh_hash(cast):
    events = _events(cast, 4)
    target = events[1]
    target.actor_role = "privacy_officer"
    new_hash = chain.compute_hash(target.previous_hash, chain.canonical(target))
    with audit_maintenance():
        AuditEvent.objects.filter(pk=target.pk).update(
            actor_role="privacy_officer", row_hash=new_hash
        )
    message, _ = _broken()
    # The next row no longer links to it.
    assert f"sequence 3 (id {events[2].pk}) is not chained to sequence 2" in message


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
