"""Progress updates the care team writes for a patient's family.

General progress in plain words ("Riley came to every group this week and is trying the
new routine at home"), never clinical detail. A family member with the "progress updates
for families" scope reads them; the patient sees every update sent to their family.
Labelled at capture: ``general``, or ``part2`` in a program that treats substance use,
where the service refuses them (no family member may see Part 2 content without the
patient's written consent, which this program does not take).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tether.lib.fields import EncryptedTextField
from tether.organizations.models import Organization
from tether.patients.models import Patient
from tether.privacy.policy import Category

MAX_UPDATE_LENGTH = 1500
UPDATE_CATEGORIES = (Category.GENERAL, Category.PART2)


class FamilyUpdate(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="family_updates")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = EncryptedTextField(_("update for the family"))
    created_at = models.DateTimeField(default=timezone.now)
    # Labelled at capture by ``tether.family.services.family_update_send`` (no default).
    record_category = models.CharField(
        _("record category"),
        max_length=32,
        choices=[(c.value, c.label) for c in UPDATE_CATEGORIES],
    )

    class Meta:
        verbose_name = _("progress update for the family")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(record_category__in=[c.value for c in UPDATE_CATEGORIES]),
                name="family_update_is_labelled",
            ),
        ]

    def __str__(self) -> str:
        return f"Family update {self.pk}"
