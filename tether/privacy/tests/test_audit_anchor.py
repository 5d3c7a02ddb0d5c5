"""Anchors: the chain heads exported outside the database, and checked later."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from tether.privacy import audit, chain
from tether.privacy.maintenance import audit_maintenance
from tether.privacy.models import AuditChainHead, AuditEvent, AuditSeal, Purpose
from tether.privacy.policy import Action, Category
from tether.privacy.sealer import seal_pending


def _events(cast, count: int) -> list[AuditEvent]:
    events = [
        audit.record(
            request=None,
            actor=cast.assigned_clinician,
            patient=cast.patient.patient,
            action=Action.VIEW,
            category=Category.GENERAL,
            purpose=Purpose.TREATMENT,
            outcome=AuditEvent.Outcome.ALLOWED,
        )
        for _ in range(count)
    ]
    seal_pending()
    return events


def _hash(event: AuditEvent) -> str:
    return AuditSeal.objects.get(event=event).row_hash


def _anchor_file(tmp_path) -> str:
    path = tmp_path / "anchor.json"
    call_command("audit_anchor", "--output", str(path), stderr=io.StringIO())
    return str(path)


def test_it_prints_each_chain_head_as_json(cast):
    events = _events(cast, 3)
    out = io.StringIO()
    call_command("audit_anchor", stdout=out)
    document = json.loads(out.getvalue())
    assert document["format"] == chain.ANCHOR_FORMAT
    [entry] = document["chains"]
    assert entry == {
        "chain_key": cast.organization.pk,
        "organization_id": cast.organization.pk,
        "organization": "riverbend",
        "sequence": 3,
        "head_hash": _hash(events[-1]),
        "occurred_at": chain.format_time(events[-1].occurred_at),
    }


def test_it_finds_the_anchor_in_a_chain_that_only_grew(cast, tmp_path):
    _events(cast, 3)
    path = _anchor_file(tmp_path)
    _events(cast, 2)
    out = io.StringIO()
    call_command("verify_audit", "--against", path, stdout=out)
    assert "1 anchor(s)" in out.getvalue()
    assert "OK: 5 events" in out.getvalue()


def test_it_catches_a_truncated_tail_that_was_made_to_look_whole(cast, tmp_path):
    events = _events(cast, 5)
    path = _anchor_file(tmp_path)
    # Delete the last two rows and move the head back: the chain itself looks intact.
    with audit_maintenance():
        AuditSeal.objects.filter(event__in=events[3:]).delete()
        AuditEvent.objects.filter(pk__in=[events[3].pk, events[4].pk]).delete()
    AuditChainHead.objects.filter(pk=cast.organization.pk).update(
        last_sequence=3, last_hash=_hash(events[2])
    )
    call_command("verify_audit", stdout=io.StringIO())  # without the anchor: no complaint
    with pytest.raises(CommandError, match="anchored sequence 5 is gone"):
        call_command("verify_audit", "--against", path, stdout=io.StringIO(), stderr=io.StringIO())


def test_it_catches_a_tail_rewritten_with_fresh_hashes(cast, tmp_path):
    events = _events(cast, 3)
    path = _anchor_file(tmp_path)
    last = AuditEvent.objects.get(pk=events[-1].pk)
    seal = AuditSeal.objects.get(event=last)
    last.purpose = Purpose.AUDIT
    new_entry = chain.entry_hash(last)
    new_hash = chain.seal_hash(
        seal.previous_hash,
        chain_key=seal.chain_key,
        sequence=seal.sequence,
        event_id=last.pk,
        entry=new_entry,
    )
    with audit_maintenance():
        AuditEvent.objects.filter(pk=last.pk).update(purpose=Purpose.AUDIT, entry_hash=new_entry)
        AuditSeal.objects.filter(pk=last.pk).update(row_hash=new_hash)
    AuditChainHead.objects.filter(pk=cast.organization.pk).update(last_hash=new_hash)
    call_command("verify_audit", stdout=io.StringIO())
    with pytest.raises(CommandError, match=f"sequence 3 \\(id {last.pk}\\) no longer has"):
        call_command("verify_audit", "--against", path, stdout=io.StringIO(), stderr=io.StringIO())


def test_it_writes_anchors_of_a_verified_chain(cast, tmp_path):
    events = _events(cast, 2)
    path = tmp_path / "verified.json"
    call_command("verify_audit", "--write-anchor", str(path), stdout=io.StringIO())
    [entry] = json.loads(path.read_text())["chains"]
    assert (entry["sequence"], entry["head_hash"]) == (2, _hash(events[-1]))


def test_it_refuses_a_file_that_is_not_an_anchor(cast, tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(CommandError, match="not an anchor file"):
        call_command("verify_audit", "--against", str(path), stdout=io.StringIO())
