"""Secure messages between a patient and their care team, with staff-only notes.

One thread per patient: the whole care team reads it and each message says who
wrote it. Bodies are encrypted at rest. Automatic replies (after hours, crisis)
store only their kind: the words are rendered from the kind in the reader's language.

A patient whose family member has the messaging scope has a second thread, the
*family* thread, between their family members and the care team. The patient's own
thread stays private to the patient. Every message is labelled at capture
(``record_category``): ``shared`` (``part2`` in a substance-use program) in the
patient's thread, ``general`` (``part2`` there too) in the family thread.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tether.lib.fields import EncryptedTextField
from tether.organizations.models import Organization, Program
from tether.patients.models import Patient
from tether.privacy.policy import Category

MAX_MESSAGE_LENGTH = 4000
MESSAGE_CATEGORIES = (Category.SHARED, Category.GENERAL, Category.PART2)


class Thread(models.Model):
    class Kind(models.TextChoices):
        PATIENT = "patient", _("Patient and care team")
        FAMILY = "family", _("Family and care team")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="message_threads")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.PATIENT)
    created_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(null=True, blank=True)
    # The first patient message since the team last replied (None: nothing waiting).
    awaiting_reply_since = models.DateTimeField(null=True, blank=True)
    last_patient_message_at = models.DateTimeField(null=True, blank=True)
    team_read_at = models.DateTimeField(null=True, blank=True)
    last_team_message_at = models.DateTimeField(null=True, blank=True)
    patient_read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("message thread")
        constraints = [
            models.UniqueConstraint(fields=["patient", "kind"], name="thread_one_per_kind"),
        ]

    def __str__(self) -> str:
        return f"Thread {self.pk}"

    @property
    def is_family(self) -> bool:
        return self.kind == self.Kind.FAMILY

    @property
    def unread_by_team(self) -> bool:
        return self.last_patient_message_at is not None and (
            self.team_read_at is None or self.team_read_at < self.last_patient_message_at
        )

    @property
    def unread_by_patient(self) -> bool:
        return self.last_team_message_at is not None and (
            self.patient_read_at is None or self.patient_read_at < self.last_team_message_at
        )


class Message(models.Model):
    class AuthorKind(models.TextChoices):
        PATIENT = "patient", _("Patient")
        PROXY = "proxy", _("Family member")
        STAFF = "staff", _("Care team")
        SYSTEM = "system", _("Automatic reply")

    class AutoReply(models.TextChoices):
        AFTER_HOURS = "after_hours", _("After-hours reply")
        CRISIS = "crisis", _("Crisis reply")

    class Trigger(models.TextChoices):
        PHRASE = "phrase", _("Crisis language in the message")
        MARKED_URGENT = "marked_urgent", _("The patient marked it urgent")
        PLEA = "plea", _("The patient asked for help now")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    author_kind = models.CharField(max_length=8, choices=AuthorKind.choices)
    body = EncryptedTextField(_("message"), blank=True)
    auto_reply = models.CharField(max_length=16, choices=AutoReply.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    idempotency_key = models.UUIDField(null=True, blank=True)
    marked_urgent = models.BooleanField(_("marked urgent"), default=False)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, blank=True)
    # The curated phrase that matched, encrypted like the message it came from.
    trigger_phrase = EncryptedTextField(blank=True)
    urgent_request = models.ForeignKey(
        "crisis.UrgentContactRequest",
        on_delete=models.PROTECT,
        related_name="messages",
        null=True,
        blank=True,
    )
    # Staff replies: seconds since the patient's oldest unanswered message.
    response_seconds = models.PositiveIntegerField(null=True, blank=True)
    # Labelled at capture (``tether.messaging.services.category_for``; no default).
    record_category = models.CharField(
        _("record category"),
        max_length=32,
        choices=[(c.value, c.label) for c in MESSAGE_CATEGORIES],
    )

    class Meta:
        verbose_name = _("message")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["thread", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["thread", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="message_unique_idempotency_key",
            ),
            models.CheckConstraint(
                condition=Q(record_category__in=[c.value for c in MESSAGE_CATEGORIES]),
                name="message_is_labelled",
            ),
        ]

    def __str__(self) -> str:
        return f"Message {self.pk} ({self.author_kind})"


class InternalNote(models.Model):
    """A staff-only note on a thread. Never shown to the patient."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = EncryptedTextField(_("note"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Note {self.pk}"


class CrisisPhrase(models.Model):
    """A program's change to the crisis-phrase list: an added phrase, or a default turned off.

    The effective list is the defaults in ``tether.messaging.crisis_language`` plus
    the program's active additions, minus the defaults it turned off.
    """

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")

    class Kind(models.TextChoices):
        CRISIS = "crisis", _("Crisis language")
        PLEA = "plea", _("A plea for help now")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="crisis_phrases")
    # Which list: crisis language (raises the urgent request and a "crisis language" flag)
    # or a plea for help now (raises the urgent request only).
    kind = models.CharField(_("list"), max_length=8, choices=Kind.choices, default=Kind.CRISIS)
    phrase = models.CharField(_("phrase"), max_length=100)
    is_active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        verbose_name = _("crisis phrase")
        constraints = [
            models.UniqueConstraint(
                fields=["program", "kind", "phrase"], name="crisis_phrase_unique_per_list"
            ),
        ]

    def __str__(self) -> str:
        return self.phrase
