"""Privacy records: the audit trail and emergency (break-glass) access grants."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tether.organizations.models import Organization
from tether.patients.models import Patient


class Purpose(models.TextChoices):
    """Why the data is used (v3-ActReason codes where one exists)."""

    TREATMENT = "TREAT", _("Treatment")
    PAYMENT = "HPAYMT", _("Payment")
    OPERATIONS = "HOPERAT", _("Health-care operations")
    PATIENT_REQUEST = "PATRQT", _("The patient's own request")
    FAMILY = "FAMRQT", _("Family member's request")
    EMERGENCY = "ETREAT", _("Emergency treatment")
    AUDIT = "HSYSADMIN", _("Audit and privacy review")


class AuditEvent(models.Model):
    """One read, write or denied attempt on patient data. Ids and codes only."""

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", _("allowed")
        DENIED = "denied", _("denied")

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", null=True
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    actor_role = models.CharField(max_length=32, blank=True)
    acting_as = models.CharField(max_length=32, blank=True)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+", null=True)
    action = models.CharField(max_length=16)
    category = models.CharField(max_length=32)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    purpose = models.CharField(max_length=16)
    client_address = models.GenericIPAddressField(null=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "occurred_at"]),
            models.Index(fields=["patient", "occurred_at"]),
            models.Index(fields=["actor", "occurred_at"]),
        ]


class BreakGlassGrant(models.Model):
    """Time-limited emergency access to one patient by a clinician outside the care team."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason for emergency access"))
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "patient", "expires_at"])]
