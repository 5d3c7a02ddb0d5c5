"""Flags: something in a patient's record that a clinician must look at.

Two sources: a safety flag raised in the same transaction as the check-in answer
that caused it (``flag_raise``), and flags raised from the program's rules
(``FlagRule``, rules as data with thresholds per program; see
``tether/flags/rules.py`` and docs/FLAGS.md) by the periodic sweep and, for one
patient, as soon as relevant data arrives (``evaluate_soon``).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tether.lib.fields import EncryptedTextField
from tether.organizations.models import Organization, Program
from tether.patients.models import Episode, Patient
from tether.privacy.policy import Category

# A flag is a self-report record, or a Part 2 record (42 CFR Part 2) when it comes
# from a Part 2 program's data or says something about substance use.
FLAG_CATEGORIES = (Category.SELF_REPORT, Category.PART2)


class Kind(models.TextChoices):
    SAFETY = "safety", _("Safety")
    DETERIORATION = "deterioration", _("Deterioration")
    DISENGAGEMENT = "disengagement", _("Disengagement")


class Severity(models.IntegerChoices):
    LOW = 1, _("Low")
    MEDIUM = 2, _("Medium")
    HIGH = 3, _("High")


class FlagRule(models.Model):
    """One rule for one program: on or off, how severe, and its threshold."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="flag_rules")
    code = models.SlugField(_("rule"), max_length=40)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    severity = models.PositiveSmallIntegerField(_("severity"), choices=Severity.choices)
    threshold = models.PositiveSmallIntegerField(_("threshold"))
    window_days = models.PositiveSmallIntegerField(_("looks back (days)"))
    enabled = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("flag rule")
        ordering = ["program_id", "kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["program", "code"], name="flag_rule_once_per_program"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.program_id})"

    def clean(self) -> None:
        from tether.flags.rules import RULES

        spec = RULES.get(self.code)
        if spec is None:
            raise ValidationError({"code": _("There is no rule with this name.")})
        errors: dict[str, str] = {}
        if self.threshold is None or not spec.threshold_min <= self.threshold <= spec.threshold_max:
            errors["threshold"] = str(
                _("The threshold for this rule must be between %(low)d and %(high)d %(unit)s.")
            ) % {"low": spec.threshold_min, "high": spec.threshold_max, "unit": spec.unit}
        if self.window_days is None or not 1 <= self.window_days <= 90:
            errors["window_days"] = str(_("A rule can look back between 1 and 90 days."))
        if errors:
            raise ValidationError(errors)


def awake(today: dt.date) -> Q:
    """Flags that are not snoozed on ``today`` (a snooze ends on its date)."""
    return Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today)


class Flag(models.Model):
    Kind = Kind

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    class Reason(models.TextChoices):
        PHQ9_ITEM9 = "phq9_item9", _("PHQ-9 item 9: thoughts of death or self-harm")
        INSTRUMENT_ALERT = "instrument_alert", _("An instrument's alert rule")

    class Action(models.TextChoices):
        CALLED = "called", _("Called the patient")
        SESSION = "session", _("Discussed in session")
        PLAN = "plan", _("Adjusted the plan")
        NO_ACTION = "no_action", _("No action (reason given)")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="flags")
    episode = models.ForeignKey(
        Episode, on_delete=models.PROTECT, related_name="flags", null=True, blank=True
    )
    rule = models.ForeignKey(
        FlagRule, on_delete=models.PROTECT, related_name="flags", null=True, blank=True
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    severity = models.PositiveSmallIntegerField(
        _("severity"), choices=Severity.choices, default=Severity.HIGH
    )
    reason = models.CharField(_("reason"), max_length=40)
    # The record category of what raised it, fixed at raise time
    # (``gate.record_category_for``): ``part2`` when it comes from a Part 2 program's
    # data or says something about substance use. Lists hide a Part 2 flag from
    # anyone the gate does not let see the patient's Part 2 record.
    record_category = models.CharField(
        _("record category"),
        max_length=32,
        choices=[(c.value, c.label) for c in FLAG_CATEGORIES],
        default=Category.SELF_REPORT,
    )
    # The measured value behind a rule's flag (days, points, count): the "why".
    value = models.SmallIntegerField(null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    # What raised it, as a type and an id (ids only, like the audit trail).
    source_type = models.CharField(max_length=64)
    source_id = models.PositiveBigIntegerField()
    raised_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    action = models.CharField(_("what was done"), max_length=16, choices=Action.choices, blank=True)
    action_note = EncryptedTextField(_("note"), blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # Snoozed: the flag stays open but quiet (out of the queue and the caseload
    # counts) until this date; the sweep raises no second flag for the rule meanwhile.
    snoozed_until = models.DateField(_("snoozed until"), null=True, blank=True)
    snooze_reason = EncryptedTextField(_("why it was snoozed"), blank=True)
    snoozed_at = models.DateTimeField(null=True, blank=True)
    snoozed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        verbose_name = _("flag")
        ordering = ["-raised_at", "-id"]
        constraints = [
            # One flag per reason per source: answering item 9 again never duplicates it.
            models.UniqueConstraint(
                fields=["kind", "reason", "source_type", "source_id"],
                condition=Q(rule__isnull=True),
                name="flag_once_per_source",
            ),
            # A rule's flag: never two open at once for the same patient.
            models.UniqueConstraint(
                fields=["patient", "rule"],
                condition=Q(status="open", rule__isnull=False),
                name="flag_open_once_per_rule",
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | Q(status="closed", closed_at__isnull=False),
                name="flag_status_matches_closed_at",
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "status"]),
            models.Index(fields=["organization", "status", "severity"]),
            # The sweep's "a flag of this rule for this patient since …" lookups
            # (flags/0007, built CONCURRENTLY on PostgreSQL).
            models.Index(fields=["rule", "patient", "raised_at"], name="flag_rule_patient_raised"),
            # A period's flags (the queue's figures for a lead: eight weeks of a program's).
            models.Index(fields=["organization", "raised_at"], name="flag_organization_raised"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} flag #{self.pk}"

    def is_snoozed(self, today: dt.date) -> bool:
        return self.snoozed_until is not None and self.snoozed_until > today

    @property
    def reason_label(self) -> str:
        return reason_label(self.reason)

    @property
    def why(self) -> str:
        """One sentence: why this flag was raised."""
        from tether.flags.rules import RULES

        spec = RULES.get(self.reason)
        if spec is None:
            return str(self.reason_label)
        if spec.explain is not None and self.value is not None:
            return spec.explain(self.value)
        days = self.rule.window_days if self.rule is not None else spec.window_days
        return str(spec.sentence) % {
            "value": self.value if self.value is not None else "?",
            "days": days,
        }

    @property
    def evidence(self) -> str:
        """The section of the pre-session review that shows the evidence."""
        from tether.flags.rules import RULES

        spec = RULES.get(self.reason)
        return spec.evidence if spec is not None else "scores"


def reason_label(reason: str) -> str:
    """A flag reason's name as the queue shows it: the rule's label, or the reason's."""
    from tether.flags.rules import RULES

    if reason in RULES:
        return str(RULES[reason].label)
    try:
        return str(Flag.Reason(reason).label)
    except ValueError:
        return reason
