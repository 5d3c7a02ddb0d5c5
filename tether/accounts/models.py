"""People who sign in, onboarding invites and front-desk reset codes."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tether.organizations.models import Organization


def hash_secret(secret: str) -> str:
    """Keyed hash for invite tokens and reset codes (never stored in clear).

    Keyed with SECRET_KEY so that a leaked table cannot be brute-forced
    offline, which matters for short, typeable reset codes.
    """
    return hmac.new(settings.SECRET_KEY.encode(), secret.encode(), hashlib.sha256).hexdigest()


class User(AbstractUser):
    """Anyone who signs in: staff, patients, family members / proxies.

    What a user *is* comes from the related StaffMember, Patient or Proxy
    rows, never from Django's is_staff flag (unused here).
    """

    class Kind(models.TextChoices):
        STAFF = "staff", _("Staff")
        PATIENT = "patient", _("Patient")
        PROXY = "proxy", _("Family member or proxy")

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PATIENT)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="users", null=True, blank=True
    )
    has_seen_welcome = models.BooleanField(default=False)

    class Language(models.TextChoices):
        # Each name in its own language: it is what a reader looks for in the switch.
        ENGLISH = "en", "English"
        SPANISH = "es", "Español"

    # The language this person reads Tether in (set at intake, changed by them at
    # /accounts/language/). Blank: not chosen, the browser's language decides.
    language = models.CharField(max_length=8, choices=Language.choices, blank=True, default="")
    # When this person proved they read ``email`` (they followed a reset link sent there).
    # Only a verified address may carry a one-time code that confirms a reset.
    email_verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(email=""),
                name="user_unique_email_ci",
            ),
        ]

    @property
    def is_staff_member(self) -> bool:
        return self.kind == self.Kind.STAFF

    @property
    def is_patient(self) -> bool:
        return self.kind == self.Kind.PATIENT

    @property
    def is_proxy(self) -> bool:
        return self.kind == self.Kind.PROXY


class Invite(models.Model):
    """A single-use, expiring link that lets a new patient set a password."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invites")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"invite #{self.pk}"

    def is_usable(self) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class IdentityDocument(models.TextChoices):
    """What staff looked at to check who is in front of them (a code: no numbers kept)."""

    DRIVERS_LICENSE = "drivers_license", _("Driver's license")
    STATE_ID = "state_id", _("State ID card")
    PASSPORT = "passport", _("Passport")
    MILITARY_ID = "military_id", _("Military ID")
    TRIBAL_ID = "tribal_id", _("Tribal ID")
    OTHER_PHOTO_ID = "other_photo_id", _("Other government photo ID")


class StaffEnrolmentLink(models.Model):
    """A single-use, expiring link with which a staff member sets up their authenticator
    app (two-step sign-in). Without one, signing in with the password alone never lets
    anyone enrol an app on a staff account (``tether.accounts.mfa``). Made by a program
    admin (or ``manage.py staff_enrolment_link`` for the first one) and handed over."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="enrolment_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"staff enrolment link #{self.pk}"

    def is_usable(self) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class ResetCode(models.Model):
    """A one-time code that front desk hands to a patient in person.

    For people who have no email or cannot use a reset link: the patient types
    their username and this code, then chooses a new password.

    It replaces the password of an account in use, so it is never issued without the
    patient's own confirmation (``confirmation``): their identity checked in person
    (who: ``created_by``; which document; when: ``confirmed_at``), or a one-time code
    sent to their verified address (``channel``), which must be typed with this code.
    """

    class Confirmation(models.TextChoices):
        IN_PERSON = "in_person", _("Identity checked in person")
        ONE_TIME_CODE = "one_time_code", _("A code sent to the patient")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="reset_codes")
    code_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    confirmation = models.CharField(max_length=16, choices=Confirmation.choices, blank=True)
    identity_document = models.CharField(
        max_length=32, choices=IdentityDocument.choices, blank=True
    )
    channel = models.CharField(max_length=16, blank=True)  # tether.accounts.confirmation
    confirmation_code_hash = models.CharField(max_length=64, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(confirmation="in_person")
                    & ~Q(identity_document="")
                    & Q(confirmed_at__isnull=False)
                )
                | (Q(confirmation="one_time_code") & ~Q(channel="") & ~Q(confirmation_code_hash=""))
                # Codes issued before confirmation existed: used up by migration 0004.
                | (Q(confirmation="") & Q(used_at__isnull=False)),
                name="reset_code_confirmed_by_the_patient",
            ),
        ]

    def __str__(self) -> str:
        return f"reset code #{self.pk}"

    def is_usable(self) -> bool:
        return (
            self.used_at is None
            and self.expires_at > timezone.now()
            and self.failed_attempts < settings.TETHER_RESET_CODE_MAX_ATTEMPTS
        )


class TwoStepReset(models.Model):
    """A program admin removed a staff member's authenticator app (lost or new phone).

    The staff member sets up two-step sign-in again the next time they sign in. The
    audit trail records the event (ids only); this row keeps the reason.
    """

    class Reason(models.TextChoices):
        LOST_PHONE = "lost_phone", _("Phone lost or stolen")
        NEW_PHONE = "new_phone", _("New phone")
        APP_REMOVED = "app_removed", _("Authenticator app deleted or reset")
        OTHER = "other", _("Other (explain below)")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="two_step_resets")
    reset_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    note = models.CharField(_("details"), max_length=200, blank=True)
    devices_removed = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"two-step reset #{self.pk}"


class AccountNotice(models.Model):
    """Something about their own account a person must see at their next sign-in.

    Today: their password was replaced with a reset code from staff. Shown before any
    other page until they have read it (``AccountNoticeMiddleware``); ids only.
    """

    class Kind(models.TextChoices):
        PASSWORD_SET_WITH_STAFF_CODE = (
            "password_staff_code",
            _("Your password was changed with a reset code from staff"),
        )

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="account_notices")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    reset_code = models.ForeignKey(
        ResetCode, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"account notice #{self.pk}"
