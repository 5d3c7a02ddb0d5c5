"""The Stanley-Brown safety plan: one plan per patient, every save a new version."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

from tether.lib.fields import EncryptedTextField
from tether.organizations.models import Organization
from tether.patients.models import Patient
from tether.privacy.policy import Category

# A safety plan is written with the care team (``shared``); in a program that treats
# substance use (42 CFR Part 2) it is labelled a Part 2 record at capture.
VERSION_CATEGORIES = (Category.SHARED, Category.PART2)

# The six steps, in the order of Stanley & Brown (2012); see
# ../shared/reference/clinical.md. (field name, title, plain-language help)
STEPS: tuple[tuple[str, StrOrPromise, StrOrPromise], ...] = (
    (
        "warning_signs",
        _("Warning signs that a crisis may be developing"),
        _("Thoughts, feelings, images or situations that tell you things are getting hard."),
    ),
    (
        "coping_strategies",
        _("Things I can do on my own to feel better"),
        _("Things that take your mind off problems without contacting anyone."),
    ),
    (
        "distractions",
        _("People and places that take my mind off things"),
        _("People you can be with, and places you can go, that help you feel better."),
    ),
    (
        "people_to_ask",
        _("People I can ask for help"),
        _("Friends or family you can call or text when you need help. Add their numbers."),
    ),
    (
        "professionals",
        _("Professionals and services I can contact"),
        _(
            "Your clinicians and services. Your program's crisis line, 988 and 911 are always on your plan."
        ),
    ),
    (
        "safe_environment",
        _("Making my surroundings safe"),
        _(
            "How you will keep yourself safe, for example keeping things you could use to hurt yourself out of reach."
        ),
    ),
)
STEP_FIELDS: tuple[str, ...] = tuple(name for name, _title, _help in STEPS)
MAX_STEP_LENGTH = 4000


class SafetyPlan(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="safety_plan")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("safety plan")

    def __str__(self) -> str:
        return f"Safety plan {self.pk}"


class SafetyPlanVersion(models.Model):
    """One saved state of the plan. Rows are never changed: a save adds a version."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(SafetyPlan, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    warning_signs = EncryptedTextField(_("warning signs"), blank=True)
    coping_strategies = EncryptedTextField(_("coping strategies"), blank=True)
    distractions = EncryptedTextField(_("people and places for distraction"), blank=True)
    people_to_ask = EncryptedTextField(_("people to ask for help"), blank=True)
    professionals = EncryptedTextField(_("professionals and services"), blank=True)
    safe_environment = EncryptedTextField(_("making the environment safe"), blank=True)
    # Labelled at capture by ``tether.privacy.gate.record_category_for`` (no default).
    record_category = models.CharField(
        _("record category"),
        max_length=32,
        choices=[(c.value, c.label) for c in VERSION_CATEGORIES],
    )

    class Meta:
        verbose_name = _("safety plan version")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="safetyplan_version_unique"),
            models.CheckConstraint(
                condition=models.Q(record_category__in=[c.value for c in VERSION_CATEGORIES]),
                name="safetyplan_version_is_labelled",
            ),
        ]

    def __str__(self) -> str:
        return f"Safety plan {self.plan_id} v{self.number}"

    def steps(self) -> list[dict[str, str]]:
        return [
            {"name": name, "title": str(title), "help": str(help_text), "text": getattr(self, name)}
            for name, title, help_text in STEPS
        ]

    def content(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in STEP_FIELDS}

    @property
    def is_empty(self) -> bool:
        return not any(v.strip() for v in self.content().values())
