"""The patient's own record (ONC 170.315(e)(1)): the copies they sent from the portal.

Viewing and downloading leave an audit event each (``export`` for a download); a copy the
patient *sends* (transmit) is also kept here, so the patient sees it in their record's
history ("Copies you sent") and the program can answer "where did my record go?". The
address the patient typed is encrypted at rest like every other thing a patient writes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tether.lib.fields import EncryptedTextField
from tether.organizations.models import Organization
from tether.patients.models import Patient


class RecordTransmission(models.Model):
    """One copy of the patient's record sent, at the patient's own request, to an address
    they typed. Not a ``consent.Disclosure``: the program does not release anything
    here, the patient sends their own copy (docs/FHIR.md, "The patient's own record")."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        DIRECT = "direct", _("Direct address")

    class Format(models.TextChoices):
        PDF = "pdf", _("PDF, to read and print")
        FHIR = "fhir", _("FHIR file, for another health record system")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="record_transmissions"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(_("how"), max_length=8, choices=Channel.choices)
    address = EncryptedTextField(_("address"))
    format = models.CharField(_("file"), max_length=8, choices=Format.choices)
    # The copy carried the 42 CFR §2.32 notice (the record holds Part 2 content).
    carried_part2_notice = models.BooleanField(default=False)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("copy of the record sent by the patient")
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["patient", "-sent_at"], name="portal_transmit_patient")]

    def __str__(self) -> str:
        return f"Record copy {self.pk} ({self.channel}, {self.format})"
