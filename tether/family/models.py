"""Progress updates the care team writes for a patient's family, and a family member's
own part of a family-therapy assignment (``FamilyAnswers``, below).

General progress in plain words ("Riley came to every group this week and is trying the
new routine at home"), never clinical detail. A family member with the "progress updates
for families" scope reads them; the patient sees every update sent to their family.
Labelled at capture: ``general``, or ``part2`` in a program that treats substance use,
where the service refuses them (no family member may see Part 2 content without the
patient's written consent, which this program does not take).
"""

from __future__ import annotations

import json
from typing import Any

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


class FamilyAnswers(models.Model):
    """A family member's own part of a family-therapy assignment.

    Kept apart from the patient's answers (``HomeworkAnswers``, self-report, never shown
    to a family member): one row per family member and assignment, written only by that
    family member (with the "family-therapy assignments" scope) and read by them and the
    care team. Labelled at capture with ``gate.family_category_for`` (``general``; the
    service refuses a program that treats substance use).
    """

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    assignment = models.ForeignKey(
        "homework.Assignment", on_delete=models.CASCADE, related_name="family_answers"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    data = EncryptedTextField(_("the family member's answers"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Labelled at capture by ``tether.family.services.family_answers_save`` (no default).
    record_category = models.CharField(
        _("record category"),
        max_length=32,
        choices=[(c.value, c.label) for c in UPDATE_CATEGORIES],
    )

    class Meta:
        verbose_name = _("family member's answers")
        verbose_name_plural = _("family members' answers")
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "author"], name="family_answers_one_per_member"
            ),
            models.CheckConstraint(
                condition=models.Q(record_category__in=[c.value for c in UPDATE_CATEGORIES]),
                name="family_answers_are_labelled",
            ),
        ]

    def __str__(self) -> str:
        return f"Family answers to assignment {self.assignment_id}"

    def as_dict(self) -> dict[str, Any]:
        if not self.data:
            return {}
        try:
            value = json.loads(self.data)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}
