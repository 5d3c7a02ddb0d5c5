"""Homework: templates a program adds, assignments, and the patient's answers.

Categories (``tether.privacy.policy``): an assignment, its note and the
clinician's feedback are ``shared``; the patient's answers (``HomeworkAnswers``)
are ``self_report``. Both are labelled at capture (``record_category``): ``part2``
in a program that treats substance use. An assignment marked *for the family* (a
family-therapy assignment) is ``general`` so that a family member with that scope may
read it (``part2`` in a substance-use program, and then no family member does); the
answers stay the patient's self-report whatever the assignment.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tether.homework.library import Definition, parse_definition
from tether.lib.fields import EncryptedTextField
from tether.organizations.models import Organization, Program
from tether.patients.models import Patient
from tether.privacy.policy import Category
from tether.scheduling.models import Appointment

ASSIGNMENT_CATEGORIES = (Category.SHARED, Category.GENERAL, Category.PART2)
ANSWER_CATEGORIES = (Category.SELF_REPORT, Category.PART2)


class ProgramTemplate(models.Model):
    """A program's own homework template (same data shape as the built-in ones)."""

    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="homework_templates"
    )
    key = models.SlugField(_("key"), max_length=64)
    definition = models.JSONField(_("definition"))
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("homework template")
        constraints = [
            models.UniqueConstraint(fields=["program", "key"], name="homework_template_unique_key")
        ]

    def __str__(self) -> str:
        return self.key

    def parsed(self) -> Definition:
        return parse_definition(self.definition)


class Assignment(models.Model):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("Not started")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="homework")
    template_key = models.SlugField(_("template"), max_length=64)
    title = models.CharField(_("title"), max_length=200)
    # A copy of the template when assigned: later edits to a template never
    # change what a patient is already working on.
    definition = models.JSONField(_("definition"))
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)
    starts_on = models.DateField(_("starts on"))
    due_on = models.DateField(_("due on"))
    note = EncryptedTextField(_("note for the patient"), blank=True)
    appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, related_name="+", null=True, blank=True
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NOT_STARTED)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    feedback = EncryptedTextField(_("feedback"), blank=True)
    feedback_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    feedback_at = models.DateTimeField(null=True, blank=True)
    # A family-therapy assignment: the family does it together and a family member with
    # the "family assignments" scope may read it (never the patient's answers).
    for_family = models.BooleanField(_("for the family"), default=False)
    # Labelled at capture by ``tether.homework.services.assignment_create`` (no default).
    record_category = models.CharField(
        _("record category"),
        max_length=32,
        choices=[(c.value, c.label) for c in ASSIGNMENT_CATEGORIES],
    )

    class Meta:
        verbose_name = _("homework assignment")
        indexes = [models.Index(fields=["patient", "status", "due_on"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(due_on__gte=models.F("starts_on")),
                name="homework_due_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(record_category__in=[c.value for c in ASSIGNMENT_CATEGORIES]),
                name="homework_assignment_is_labelled",
            ),
        ]

    def __str__(self) -> str:
        return f"Assignment {self.pk}"

    def parsed(self) -> Definition:
        return parse_definition(self.definition)

    @property
    def is_done(self) -> bool:
        return self.status == self.Status.DONE

    def days_late(self, today: date | None = None) -> int:
        """Days past the due date: when done late, or still open after it."""
        if self.is_done and self.completed_at is not None:
            finished = timezone.localdate(self.completed_at)
            return max(0, (finished - self.due_on).days)
        today = today or timezone.localdate()
        return max(0, (today - self.due_on).days)

    @property
    def is_late(self) -> bool:
        return self.days_late() > 0

    @property
    def display_status(self) -> str:
        if not self.is_done and self.is_late:
            return str(_("Late"))
        return str(self.get_status_display())


class HomeworkAnswers(models.Model):
    """What the patient wrote (``self_report``), saved step by step."""

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="answers")
    data = EncryptedTextField(_("answers"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Labelled at capture by ``tether.homework.services.answers_save`` (no default).
    record_category = models.CharField(
        _("record category"),
        max_length=32,
        choices=[(c.value, c.label) for c in ANSWER_CATEGORIES],
    )

    class Meta:
        verbose_name = _("homework answers")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(record_category__in=[c.value for c in ANSWER_CATEGORIES]),
                name="homework_answers_are_labelled",
            ),
        ]

    def __str__(self) -> str:
        return f"Answers to assignment {self.assignment_id}"

    def as_dict(self) -> dict[str, Any]:
        if not self.data:
            return {}
        try:
            value = json.loads(self.data)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}
