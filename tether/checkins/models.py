"""Instruments (as data), what each program turns on, and patients' responses.

An ``Instrument`` row holds one version of a definition file from
``instruments/`` (loaded by migration 0002 and ``manage.py sync_instruments``);
``tether.checkins.engine`` reads it. A ``Response`` is one patient's answers to one
instrument for one *window* (a day, a week, or the 72 hours before a session): the
unique constraint on (patient, instrument, window) means a double tap or a retry
can never record two.
"""

from __future__ import annotations

import uuid
from functools import cached_property

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tether.checkins import engine
from tether.lib.fields import EncryptedTextField
from tether.organizations.models import Organization, Program
from tether.patients.models import Episode, Patient
from tether.privacy.policy import Category

# The categories a check-in or measure response can carry: set at capture by
# ``tether.privacy.gate.record_category_for(episode, Category.SELF_REPORT)``; in a
# program that treats substance use (42 CFR Part 2) it is a Part 2 record.
RESPONSE_CATEGORIES = (Category.SELF_REPORT, Category.PART2)


class Instrument(models.Model):
    code = models.SlugField(max_length=32)
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=64)
    is_validated = models.BooleanField(
        help_text=_("False for self-monitoring scales such as the daily check-in.")
    )
    is_current = models.BooleanField(default=True)
    loinc_panel = models.CharField(max_length=16, blank=True)
    loinc_total = models.CharField(max_length=16, blank=True)
    definition = models.JSONField()

    class Meta:
        verbose_name = _("instrument")
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="instrument_unique_version"),
            models.UniqueConstraint(
                fields=["code"], condition=Q(is_current=True), name="instrument_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.short_name} v{self.version}"

    @cached_property
    def spec(self) -> engine.Definition:
        return engine.parse(self.definition)


class ProgramInstrument(models.Model):
    """A program turns an instrument on and says when it is due."""

    class Schedule(models.TextChoices):
        DAILY = "daily", _("Every day")
        BEFORE_SESSION = "before_session", _("Before each session (in the 72 hours before)")
        WEEKLY = "weekly", _("Every week")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="instruments")
    instrument_code = models.SlugField(max_length=32)
    schedule = models.CharField(max_length=16, choices=Schedule.choices)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("program instrument")
        constraints = [
            models.UniqueConstraint(
                fields=["program", "instrument_code"], name="program_instrument_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_code} ({self.get_schedule_display()})"


class Response(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("In progress")
        COMPLETE = "complete", _("Complete")
        INCOMPLETE = "incomplete", _("Incomplete")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="responses")
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="responses")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    # The draft's id in URLs and the idempotency key of its submission (not guessable).
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    window = models.CharField(max_length=64)  # "daily:2026-11-26", "weekly:2026-W48", "session:42"
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    total = models.SmallIntegerField(null=True, blank=True)
    band = models.CharField(max_length=32, blank=True)
    # The record's category, labelled once at capture from the episode's program (no
    # default: a response that is not labelled cannot be stored). Its answers share it.
    record_category = models.CharField(
        _("record category"),
        max_length=32,
        choices=[(c.value, c.label) for c in RESPONSE_CATEGORIES],
    )
    # The language the questions were shown in when it was sent (checkins/languages.py):
    # a Spanish reader of a validated measure with no published Spanish answered in English.
    language = models.CharField(
        _("language answered in"),
        max_length=8,
        choices=[("en", _("English")), ("es", _("Spanish"))],
        default="en",
    )

    class Meta:
        verbose_name = _("check-in or measure response")
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "instrument", "window"], name="response_once_per_window"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(submitted_at__isnull=False),
                name="response_submitted_when_closed",
            ),
            models.CheckConstraint(
                condition=~Q(status="incomplete") | Q(total__isnull=True),
                name="response_incomplete_has_no_total",
            ),
            models.CheckConstraint(
                condition=Q(record_category__in=[c.value for c in RESPONSE_CATEGORIES]),
                name="response_is_labelled",
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "status", "submitted_at"]),
            # "A patient's latest score on this instrument" (the caseload board's columns
            # and sorts) reads one entry, not the patient's whole year of check-ins.
            models.Index(
                fields=["patient", "instrument", "-submitted_at"],
                condition=Q(status="complete"),
                name="response_latest_by_instrument",
            ),
            # The program reports (tether/reports): an episode's first and last completed
            # response, and its days with a daily check-in in a period, read from the
            # index alone instead of the episode's year of rows.
            models.Index(
                fields=["episode", "submitted_at", "window"],
                condition=Q(status="complete"),
                name="response_episode_completed",
            ),
            # "Does this patient have any Part 2 check-in?" (the caseload board's and the
            # flag queue's audit category, per row): a few entries, not the patient's
            # year of self-report check-ins (5 ms of the board's rows at 10,000 patients).
            models.Index(
                fields=["patient"],
                condition=Q(record_category="part2"),
                name="response_part2_by_patient",
            ),
        ]

    def __str__(self) -> str:
        return f"response #{self.pk}"


class Answer(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    item_code = models.CharField(max_length=32)
    value = models.SmallIntegerField(null=True, blank=True)
    text = EncryptedTextField(null=True, blank=True)  # free text only; None otherwise
    answered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "item_code"], name="answer_once_per_item"),
        ]

    def __str__(self) -> str:
        return f"answer #{self.pk}"
