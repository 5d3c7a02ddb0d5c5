"""Reaching patients outside the app: preferences, SMS consent, messages, push.

Nothing here holds clinical content in clear: bodies are encrypted at rest
(``EncryptedTextField``), and what may be *said* at all is decided by
``tether.outreach.content`` (no diagnosis, score, program or substance-use word).
Phone numbers are stored in E.164 (``tether.lib.phones.parse_phone``).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tether.lib.fields import EncryptedTextField
from tether.organizations.models import Organization
from tether.patients.models import Patient

QUIET_FROM = dt.time(21, 0)
QUIET_UNTIL = dt.time(8, 0)


class Channel(models.TextChoices):
    SMS = "sms", _("Text message")
    PUSH = "push", _("Notification on the installed app")
    EMAIL = "email", _("E-mail")


class Kind(models.TextChoices):
    """Why a message goes out (its purpose, audited)."""

    CHECKIN_DUE = "checkin_due", _("A check-in is waiting")
    SESSION_TOMORROW = "session_tomorrow", _("A session tomorrow")
    SESSION_SOON = "session_soon", _("A session in two hours")
    HOMEWORK_DUE = "homework_due", _("Homework due")
    CARE_TEAM_MESSAGE = "care_team_message", _("A message from the care team")
    SMS_CHECKIN = "sms_checkin", _("The daily question by text")
    SMS_MEASURE = "sms_measure", _("Questions waiting, to answer by text")
    CHECKIN_QUESTION = "checkin_question", _("The next question of a check-in by text")
    CHECKIN_REPLY = "checkin_reply", _("An answer to a text check-in")
    CRISIS_NUMBERS = "crisis_numbers", _("Crisis numbers")
    KEYWORD_REPLY = "keyword_reply", _("An answer to STOP, START or HELP")
    NEUTRAL_REPLY = "neutral_reply", _("An answer to an unknown number")


# Which preference switch a reminder kind answers to.
REMINDER_KINDS = (
    Kind.CHECKIN_DUE,
    Kind.SESSION_TOMORROW,
    Kind.SESSION_SOON,
    Kind.HOMEWORK_DUE,
    Kind.CARE_TEAM_MESSAGE,
)


class ContactPreference(models.Model):
    """One per patient: how and about what the patient wants to be reached.

    Defaults send nothing by text until an SMS opt-in is recorded (``sms_opted_in_at``),
    and nothing at all between 21:00 and 08:00 in the patient's time zone.
    """

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    patient = models.OneToOneField(
        Patient, on_delete=models.CASCADE, related_name="contact_preference"
    )
    sms_phone = models.CharField(_("mobile number for texts"), max_length=32, blank=True)
    # Channels.
    by_sms = models.BooleanField(_("text messages"), default=False)
    by_push = models.BooleanField(_("notifications on the installed app"), default=False)
    by_email = models.BooleanField(_("e-mail"), default=False)
    # Kinds.
    checkin_due = models.BooleanField(_("a check-in is waiting"), default=True)
    session_reminder = models.BooleanField(
        _("sessions (the day before and 2 hours before)"), default=True
    )
    homework_due = models.BooleanField(_("homework due"), default=True)
    care_team_message = models.BooleanField(_("a message from the care team"), default=True)
    daily_checkin_by_text = models.BooleanField(
        _("answer the daily mood question by text"), default=False
    )
    # Quiet hours, in the patient's time zone (the program's unless set here).
    quiet_from = models.TimeField(_("quiet from"), default=QUIET_FROM)
    quiet_until = models.TimeField(_("quiet until"), default=QUIET_UNTIL)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    # SMS consent state (the record of each change is SmsConsentEvent).
    sms_opted_in_at = models.DateTimeField(null=True, blank=True)
    sms_stopped_at = models.DateTimeField(null=True, blank=True)
    # Texts to this number fail (shown to staff; set from delivery status).
    sms_failing_since = models.DateTimeField(null=True, blank=True)
    # The check-in being answered by text now (one question per message), the question
    # already asked again once, and a questionnaire offered by text awaiting a reply.
    text_response = models.ForeignKey(
        "checkins.Response", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text_clarified_item = models.CharField(max_length=16, blank=True)
    text_offer = models.CharField(max_length=16, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("contact preference")
        indexes = [models.Index(fields=["sms_phone"], name="outreach_pref_phone")]

    def __str__(self) -> str:
        return f"contact preference {self.pk}"

    @property
    def sms_allowed(self) -> bool:
        return bool(
            self.by_sms and self.sms_phone and self.sms_opted_in_at and not self.sms_stopped_at
        )

    def wants(self, kind: str) -> bool:
        switches: dict[str, bool] = {
            Kind.CHECKIN_DUE: self.checkin_due,
            Kind.SESSION_TOMORROW: self.session_reminder,
            Kind.SESSION_SOON: self.session_reminder,
            Kind.HOMEWORK_DUE: self.homework_due,
            Kind.CARE_TEAM_MESSAGE: self.care_team_message,
        }
        return switches.get(kind, True)


class SmsConsentEvent(models.Model):
    """The record of every SMS opt-in and opt-out (CTIA: keep proof of consent)."""

    class Change(models.TextChoices):
        OPT_IN = "opt_in", _("Agreed to texts")
        OPT_OUT = "opt_out", _("Stopped texts")
        RESUME = "resume", _("Started texts again")

    class Method(models.TextChoices):
        PORTAL = "portal", _("In the portal, by the patient")
        INTAKE = "intake", _("At intake, in person")
        KEYWORD = "keyword", _("By replying with a keyword")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    phone = models.CharField(max_length=32)
    change = models.CharField(max_length=16, choices=Change.choices)
    method = models.CharField(max_length=16, choices=Method.choices)
    keyword = models.CharField(max_length=16, blank=True)
    occurred_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    witnessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["occurred_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(method="intake") | Q(witnessed_by__isnull=False),
                name="sms_consent_intake_witnessed",
            )
        ]

    def __str__(self) -> str:
        return f"{self.change} {self.occurred_at:%Y-%m-%d}"


class OutboundMessage(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        UNDELIVERED = "undelivered", _("Not delivered")

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, related_name="+"
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, related_name="outbound_messages"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    to = models.CharField(max_length=600)  # E.164, an address, or a push endpoint's id
    body = EncryptedTextField()
    # At most one reminder per kind per window: "checkin_due:daily:2026-12-05".
    dedupe_key = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    provider_id = models.CharField(max_length=64, blank=True)  # Twilio's MessageSid
    error_code = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "channel", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="outbound_once_per_window",
            )
        ]
        indexes = [
            models.Index(fields=["provider_id"], name="outreach_out_provider"),
            models.Index(fields=["patient", "created_at"], name="outreach_out_patient"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.kind} {self.pk}"


class InboundMessage(models.Model):
    """A text received. Stored once per ``MessageSid`` (Twilio may post it again)."""

    class Handling(models.TextChoices):
        KEYWORD = "keyword", _("A keyword (STOP, START, HELP)")
        CHECKIN = "checkin", _("A check-in answer")
        CRISIS = "crisis", _("Crisis language: urgent request raised")
        CLARIFY = "clarify", _("Not understood: asked again")
        CLOSED = "closed", _("No check-in open")
        UNKNOWN = "unknown", _("From a number we do not know")

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, related_name="+"
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, related_name="inbound_messages"
    )
    message_sid = models.CharField(max_length=64, unique=True)
    body = EncryptedTextField(null=True, blank=True)  # None for unknown numbers
    handling = models.CharField(max_length=16, choices=Handling.choices)
    received_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"inbound {self.message_sid}"


class PushSubscription(models.Model):
    """A browser's Web Push subscription (RFC 8030), given after the patient says yes."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=600, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"push subscription {self.pk}"


class ProgramTextSetting(models.Model):
    """How a program sends its questionnaires (PHQ-9, GAD-7) to patients who answer
    check-ins by text: a link to the portal (the default), or one item per message."""

    class MeasuresBy(models.TextChoices):
        LINK = "link", _("A link to the portal")
        TEXT = "text", _("One question per text message")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    program = models.OneToOneField(
        "organizations.Program", on_delete=models.CASCADE, related_name="text_setting"
    )
    measures_by = models.CharField(
        _("questionnaires by text"),
        max_length=8,
        choices=MeasuresBy.choices,
        default=MeasuresBy.LINK,
    )

    def __str__(self) -> str:
        return f"text setting {self.pk}"
