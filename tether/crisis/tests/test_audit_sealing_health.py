"""The background health says when the audit sealer falls behind, and the scheduler
seals what requests recorded."""

from __future__ import annotations

import datetime as dt

from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from tether.crisis.health import AUDIT_SEALING_BEHIND, background_health
from tether.privacy import audit
from tether.privacy.models import AuditEvent, AuditPending, AuditSeal, Purpose
from tether.privacy.policy import Action, Category


def _record(cast) -> AuditEvent:
    return audit.record(
        request=None,
        actor=cast.assigned_clinician,
        patient=cast.patient.patient,
        action=Action.VIEW,
        category=Category.GENERAL,
        purpose=Purpose.TREATMENT,
        outcome=AuditEvent.Outcome.ALLOWED,
    )


def test_it_raises_the_alarm_when_an_event_waits_too_long_to_be_sealed(cast, client, settings):
    call_command("run_scheduler", "--once")  # a fresh heartbeat, and nothing waiting
    event = _record(cast)
    assert AUDIT_SEALING_BEHIND not in background_health().problems
    later = timezone.now() + dt.timedelta(seconds=settings.TETHER_AUDIT_SEAL_LAG_SECONDS + 1)
    health = background_health(now=later)
    assert AUDIT_SEALING_BEHIND in health.problems
    assert health.oldest_unsealed_at == event.occurred_at
    assert health.stopped_since == event.occurred_at
    response = client.get(reverse("healthz_background"))
    body = response.json()
    assert "oldest_unsealed_audit_event_at" in body


def test_the_scheduler_seals_what_was_recorded(cast):
    event = _record(cast)
    call_command("run_scheduler", "--once")
    assert AuditSeal.objects.filter(event=event).exists()
    assert not AuditPending.objects.exists()
    assert background_health().oldest_unsealed_at is None


def test_the_oldest_waiting_event_is_found_among_many_waiting(cast, monkeypatch):
    # The health check reads only the first waiting events by key (a constant read
    # while the sealer is down and the queue grows): the oldest is still the one found.
    from tether.privacy import sealer

    monkeypatch.setattr(sealer, "FIRST_WAITING", 3)
    first = _record(cast)
    for _ in range(7):
        _record(cast)
    assert AuditPending.objects.count() == 8
    assert background_health().oldest_unsealed_at == first.occurred_at
