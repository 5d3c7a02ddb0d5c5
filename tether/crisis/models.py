"""Urgent-contact requests: a patient's call for help, routed, escalated and closed.

A request goes to the care team in office hours and to the on-call clinician after
hours. Not acknowledged within the program's escalation minutes, it goes to the
clinical lead; still not, to the program's escalation contact. Every step is an
``UrgentContactEvent`` row (and an audit event); the contact itself is documented
on the request before it is closed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tether.lib.fields import EncryptedTextField
from tether.organizations.models import Organization, Program
from tether.patients.models import Patient


class Level(models.TextChoices):
    """Who the request is with now, in escalation order."""

    CARE_TEAM = "care_team", _("the care team")
    ON_CALL = "on_call", _("the on-call clinician")
    CLINICAL_LEAD = "clinical_lead", _("the clinical lead")
    ESCALATION_CONTACT = "escalation_contact", _("the program's escalation contact")


class UrgentContactRequest(models.Model):
    class Source(models.TextChoices):
        PATIENT_BUTTON = "patient_button", _("The patient asked for urgent contact")
        CHECKIN = "checkin", _("A check-in answer")
        MESSAGE = "message", _("Crisis language in a message")
        MESSAGE_URGENT = "message_urgent", _("The patient asked for urgent help in a message")
        SMS = "sms", _("A text message")

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for a clinician")
        ACKNOWLEDGED = "acknowledged", _("A clinician is on it")
        CLOSED = "closed", _("Contact made and documented")

    class ContactMethod(models.TextChoices):
        PHONE = "phone", _("Phone call")
        VIDEO = "video", _("Video call")
        IN_PERSON = "in_person", _("In person")
        MESSAGE = "message", _("Secure message")
        NOT_REACHED = "not_reached", _("Tried, could not reach")

    class Outcome(models.TextChoices):
        SAFE_PLAN = "safe_plan", _("Reached; safe, plan agreed")
        SAME_DAY_SESSION = "same_day_session", _("Reached; seen or booked the same day")
        HIGHER_CARE = "higher_care", _("Referred to a higher level of care")
        EMERGENCY_SERVICES = "emergency_services", _("Emergency services called (988 / 911)")
        NOT_REACHED = "not_reached", _("Not reached; follow-up arranged")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="urgent_requests")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    level = models.CharField(_("with"), max_length=24, choices=Level.choices)
    raised_at = models.DateTimeField(_("raised at"))
    after_hours = models.BooleanField(_("raised after hours"), default=False)
    # When the current level must have acknowledged before the next is alerted.
    escalate_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    contact_method = models.CharField(
        _("how contact was made"), max_length=16, choices=ContactMethod.choices, blank=True
    )
    outcome = models.CharField(_("outcome"), max_length=24, choices=Outcome.choices, blank=True)
    safety_plan_reviewed = models.BooleanField(_("safety plan reviewed"), default=False)
    next_step = EncryptedTextField(_("next step"), blank=True)

    class Meta:
        verbose_name = _("urgent-contact request")
        indexes = [
            models.Index(fields=["organization", "status", "escalate_at"]),
            models.Index(fields=["patient", "-raised_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="closed")
                | Q(closed_at__isnull=False, acknowledged_at__isnull=False),
                name="urgent_closed_has_times",
            ),
        ]

    def __str__(self) -> str:
        return f"Urgent request {self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED


# The sources where the patient themself asked for urgent help (the "crisis pathway
# used" flag and the "used N times" counts). A check-in answer (item 9) and crisis
# language found in a message are raised by the system, and each has its own flag.
PATIENT_ASKED_SOURCES = frozenset(
    {
        UrgentContactRequest.Source.PATIENT_BUTTON,
        UrgentContactRequest.Source.MESSAGE_URGENT,
        UrgentContactRequest.Source.SMS,
    }
)


class UrgentContactEvent(models.Model):
    """One step of a request's life, shown to staff and (in plain words) to the patient."""

    class Kind(models.TextChoices):
        RAISED = "raised", _("Request received")
        ROUTED = "routed", _("Sent to")
        ESCALATED = "escalated", _("Not acknowledged in time; escalated to")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        CLOSED = "closed", _("Contact documented and closed")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    request = models.ForeignKey(
        UrgentContactRequest, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    level = models.CharField(max_length=24, choices=Level.choices, blank=True)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    notified_count = models.PositiveSmallIntegerField(default=0)
    # On a RAISED event: what raised this call (a patient's second call may come from a
    # different source than the request's first one).
    source = models.CharField(
        max_length=16, choices=UrgentContactRequest.Source.choices, blank=True, default=""
    )

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.level}".strip()


class SchedulerHeartbeat(models.Model):
    """When ``manage.py run_scheduler`` last woke up: one row, rewritten every tick.

    Escalation of urgent requests depends on the scheduler; ``tether.crisis.health``
    reads this row (and the task table) to tell staff and monitoring when it stopped.
    Holds no patient data.
    """

    name = models.CharField(max_length=32, primary_key=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
