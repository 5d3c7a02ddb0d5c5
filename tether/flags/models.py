"""Flags: something in a patient's record that a clinician must look at.

A minimal model: the clinician-workspace issue extends it (acknowledging,
assigning, closing with a note, the dashboard count). A safety flag is written in
the same transaction as the answer that raised it, so it cannot be lost.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tether.organizations.models import Organization
from tether.patients.models import Episode, Patient


class Flag(models.Model):
    class Kind(models.TextChoices):
        SAFETY = "safety", _("Safety")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    class Reason(models.TextChoices):
        PHQ9_ITEM9 = "phq9_item9", _("PHQ-9 item 9: thoughts of death or self-harm")
        INSTRUMENT_ALERT = "instrument_alert", _("An instrument's alert rule")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="flags")
    episode = models.ForeignKey(
        Episode, on_delete=models.PROTECT, related_name="flags", null=True, blank=True
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=32)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    # What raised it, as a type and an id (ids only, like the audit trail).
    source_type = models.CharField(max_length=64)
    source_id = models.PositiveBigIntegerField()
    raised_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("flag")
        ordering = ["-raised_at", "-id"]
        constraints = [
            # One flag per reason per source: answering item 9 again never duplicates it.
            models.UniqueConstraint(
                fields=["kind", "reason", "source_type", "source_id"], name="flag_once_per_source"
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | Q(status="closed", closed_at__isnull=False),
                name="flag_status_matches_closed_at",
            ),
        ]
        indexes = [models.Index(fields=["patient", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} flag #{self.pk}"

    @property
    def reason_label(self) -> str:
        try:
            return str(self.Reason(self.reason).label)
        except ValueError:
            return self.reason
