"""In-app notifications: something a staff member must look at (for now, break-glass alerts).

A notification holds ids and a kind, never free text: what it says is rendered
from the kind and the records it points to, in the reader's language.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tether.organizations.models import Organization
from tether.patients.models import Patient
from tether.privacy.models import BreakGlassGrant


class Notification(models.Model):
    class Kind(models.TextChoices):
        BREAK_GLASS = "break_glass", _("Emergency access was used")
        URGENT_REQUEST = "urgent_request", _("A patient needs urgent contact")
        URGENT_ESCALATED = (
            "urgent_escalated",
            _("Escalated to you: urgent contact not acknowledged"),
        )
        TWO_STEP_RESET = "two_step_reset", _("A staff two-step sign-in was reset")
        CONSENT_STAFF_ENTERED = (
            "consent_staff_entered",
            _("A consent was entered on a staff device"),
        )

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+", null=True)
    break_glass_grant = models.ForeignKey(
        BreakGlassGrant, on_delete=models.PROTECT, related_name="+", null=True
    )
    urgent_request = models.ForeignKey(
        "crisis.UrgentContactRequest", on_delete=models.PROTECT, related_name="+", null=True
    )
    consent = models.ForeignKey(
        "consent.ConsentDirective", on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        indexes = [models.Index(fields=["recipient", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="break_glass") | Q(break_glass_grant__isnull=False),
                name="notification_break_glass_has_grant",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["urgent_request", "urgent_escalated"])
                | Q(urgent_request__isnull=False),
                name="notification_urgent_has_request",
            ),
            models.CheckConstraint(
                condition=~Q(kind="consent_staff_entered") | Q(consent__isnull=False),
                name="notification_consent_has_consent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None
