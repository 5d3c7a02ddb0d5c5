"""Writes for flags. Callers run these inside their own transaction, so a flag is
stored together with the answer that raised it, or not at all."""

from __future__ import annotations

from django.db import models, transaction
from django.utils import timezone

from tether.flags.models import Flag
from tether.patients.models import Episode, Patient
from tether.privacy import audit
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category


def flag_raise(
    *,
    patient: Patient,
    episode: Episode | None,
    kind: Flag.Kind,
    reason: str,
    source: models.Model,
) -> tuple[Flag, bool]:
    """The open-or-closed flag for this reason and source; created (and audited) if new."""
    with transaction.atomic():
        flag, created = Flag.objects.get_or_create(
            kind=kind,
            reason=reason,
            source_type=source._meta.label_lower,
            source_id=source.pk,
            defaults={
                "organization_id": patient.organization_id,
                "patient": patient,
                "episode": episode,
                "raised_at": timezone.now(),
            },
        )
        if created:
            audit.record(
                request=None,
                actor=None,
                patient=patient,
                action=Action.CREATE,
                category=Category.SELF_REPORT,
                purpose=Purpose.TREATMENT,
                outcome=AuditEvent.Outcome.ALLOWED,
                obj=flag,
            )
    return flag, created
