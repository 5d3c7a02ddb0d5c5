"""Writes about accounts: invites, front-desk reset codes and staff two-step resets."""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.sessions.models import Session
from django.core.mail import EmailMessage
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts import confirmation as confirmation_channels
from tether.accounts.backends import lockout_key
from tether.accounts.models import (
    AccountNotice,
    IdentityDocument,
    Invite,
    ResetCode,
    StaffEnrolmentLink,
    TwoStepReset,
    User,
    hash_secret,
)
from tether.organizations.models import StaffMember
from tether.patients.models import Patient
from tether.privacy import audit
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category

# Account events are logged by user id only: never names, usernames, codes or tokens.
logger = logging.getLogger("tether.accounts")


class InviteNotUsable(Exception):
    """The invite was used, revoked or expired between showing the form and submitting it."""


class ResetCodeRejected(Exception):
    """Unknown username, wrong, expired, used or exhausted code: deliberately one outcome,
    so the reset page never reveals which accounts exist or which codes are live."""


class AccountInUse(Exception):
    """An invite is for a first password only: this account already has one."""


class ConfirmationMissing(Exception):
    """A reset code needs the patient's own confirmation: in person with the identity
    document recorded, or a one-time code on a channel the patient has verified."""


def account_in_use(user: User) -> bool:
    """The person has chosen a password: handing the account over needs their confirmation."""
    return user.has_usable_password()


@dataclass(frozen=True)
class IssuedInvite:
    invite: Invite
    token: str  # shown once, never stored


@dataclass(frozen=True)
class IssuedResetCode:
    reset_code: ResetCode
    code: str  # shown once, never stored

    @property
    def display(self) -> str:
        return f"{self.code[:4]} {self.code[4:]}"


def invite_create(*, user: User, created_by: User) -> IssuedInvite:
    """A fresh single-use invite; any older unused invite for the same person stops working.

    Only for someone who has never chosen a password (``AccountInUse`` otherwise): an
    account in use is reached again with a reset code and the patient's confirmation.
    """
    if user.organization_id is None:
        raise ValueError("Invites are only for people who belong to an organization.")
    if account_in_use(user):
        raise AccountInUse
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        Invite.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=now
        )
        invite = Invite.objects.create(
            organization_id=user.organization_id,
            user=user,
            token_hash=hash_secret(token),
            created_by=created_by,
            created_at=now,
            expires_at=now + timedelta(hours=settings.TETHER_INVITE_VALID_HOURS),
        )
    return IssuedInvite(invite=invite, token=token)


def invite_find_usable(*, token: str) -> Invite | None:
    invite = Invite.objects.select_related("user").filter(token_hash=hash_secret(token)).first()
    if invite is None or not invite.is_usable():
        return None
    return invite


def reset_code_issue(
    *,
    user: User,
    created_by: User,
    confirmation: ResetCode.Confirmation,
    identity_document: str = "",
    channel: str = "",
    request: HttpRequest | None = None,
) -> IssuedResetCode:
    """An 8-digit code for the front desk to hand over in person. Digits only:
    they are the easiest thing to type on any phone.

    It replaces the password of an account in use, so the patient confirms it themself
    (``ConfirmationMissing`` otherwise):

    - ``IN_PERSON``: ``created_by`` checked the patient's identity now, on the
      ``identity_document`` named (a code; no document number is kept);
    - ``ONE_TIME_CODE``: a code goes to the patient's verified address on ``channel``
      (``tether.accounts.confirmation``), and the reset code works only with it.

    Audited (update of the account, ids only) in the same transaction.
    """
    if user.organization_id is None:
        raise ValueError("Reset codes are only for people who belong to an organization.")
    channel_impl = None
    if confirmation == ResetCode.Confirmation.IN_PERSON:
        if identity_document not in IdentityDocument.values:
            raise ConfirmationMissing
        channel = ""
    elif confirmation == ResetCode.Confirmation.ONE_TIME_CODE:
        channel_impl = confirmation_channels.CHANNELS.get(channel)
        if channel_impl is None or not channel_impl.available_for(user):
            raise ConfirmationMissing
        identity_document = ""
    else:
        raise ConfirmationMissing
    now = timezone.now()
    code = "".join(secrets.choice("0123456789") for _ in range(8))
    confirmation_code = confirmation_channels.new_code() if channel_impl is not None else ""
    valid_hours = settings.TETHER_RESET_CODE_VALID_HOURS
    with transaction.atomic():
        ResetCode.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
        reset_code = ResetCode.objects.create(
            organization_id=user.organization_id,
            user=user,
            code_hash=hash_secret(code),
            created_by=created_by,
            created_at=now,
            expires_at=now + timedelta(hours=valid_hours),
            confirmation=confirmation,
            identity_document=identity_document,
            channel=channel,
            confirmation_code_hash=hash_secret(confirmation_code) if confirmation_code else "",
            confirmed_at=now if confirmation == ResetCode.Confirmation.IN_PERSON else None,
        )
        audit.record(
            request=request,
            actor=created_by,
            patient=_patient_of(user),
            action=Action.UPDATE,
            category=Category.GENERAL,
            purpose=Purpose.OPERATIONS,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=reset_code,
        )
        if channel_impl is not None:
            sender = channel_impl
            transaction.on_commit(
                lambda: sender.send(user, confirmation_code, int(valid_hours * 60))
            )
    logger.info(
        "reset code issued: user=%s code=%s by=%s confirmation=%s",
        user.pk,
        reset_code.pk,
        created_by.pk,
        confirmation,
    )
    return IssuedResetCode(reset_code=reset_code, code=code)


def _patient_of(user: User) -> Patient | None:
    return Patient.objects.filter(user_id=user.pk).first()


def invite_accept(*, invite: Invite, password: str) -> User:
    """Set the invited person's first password and use up the invite, once.

    The invite row is locked, so two taps on "Save" (or two phones) cannot both
    succeed. Raises ``InviteNotUsable`` if it stopped working meanwhile, and
    ``ValidationError`` if the password is not accepted (nothing is changed then).
    """
    with transaction.atomic():
        locked = (
            Invite.objects.select_for_update(no_key=True, of=("self",))
            .select_related("user")
            .get(pk=invite.pk)
        )
        user = locked.user
        # Checked again here, whatever made the invite: an invite never replaces the
        # password of an account in use (that needs the patient's confirmation).
        if not locked.is_usable() or not user.is_active or account_in_use(user):
            raise InviteNotUsable
        password_validation.validate_password(password, user)
        user.set_password(password)
        user.save(update_fields=["password"])
        locked.used_at = timezone.now()
        locked.save(update_fields=["used_at"])
    logger.info("invite accepted: user=%s invite=%s", user.pk, locked.pk)
    return user


def _find_active_user(identifier: str) -> User | None:
    identifier = identifier.strip()
    if not identifier:
        return None
    field = "email__iexact" if "@" in identifier else "username__iexact"
    matches = list(User.objects.filter(**{field: identifier}, is_active=True)[:2])
    return matches[0] if len(matches) == 1 else None


def reset_code_redeem(
    *, username: str, code: str, password: str, confirmation_code: str = ""
) -> User:
    """Redeem a front-desk reset code: check it, set the new password, use the code up.

    A wrong code counts against the person's current code; after
    ``TETHER_RESET_CODE_MAX_ATTEMPTS`` wrong tries it stops working. Raises
    ``ResetCodeRejected`` (one outcome for every kind of failure) or
    ``ValidationError`` when the code is right but the password is not accepted;
    then the code stays usable and no attempt is counted. A code issued with a one-time
    code to the patient (``ResetCode.Confirmation.ONE_TIME_CODE``) works only together
    with that ``confirmation_code``; a wrong one counts as a wrong try.

    The person is told: a notice at their next sign-in (``AccountNotice``) and a
    PHI-free email to the address on file.

    Changing the password changes the session hash, so every other session of
    this person ends at its next request.
    """
    code_hash = hash_secret(code)  # computed for every request: the same work either way
    user = _find_active_user(username)
    if user is None:
        logger.info("reset code rejected: no such account")
        raise ResetCodeRejected
    now = timezone.now()
    with transaction.atomic():
        reset_code = (
            ResetCode.objects.select_for_update(no_key=True)
            .filter(
                user=user,
                used_at__isnull=True,
                expires_at__gt=now,
                failed_attempts__lt=settings.TETHER_RESET_CODE_MAX_ATTEMPTS,
            )
            .order_by("-created_at", "-pk")
            .first()
        )
        matched = reset_code is not None and hmac.compare_digest(reset_code.code_hash, code_hash)
        if matched and reset_code is not None and reset_code.confirmed_at is None:
            matched = bool(reset_code.confirmation_code_hash) and hmac.compare_digest(
                reset_code.confirmation_code_hash, hash_secret(confirmation_code.strip())
            )
        if reset_code is not None and not matched:
            reset_code.failed_attempts += 1
            reset_code.save(update_fields=["failed_attempts"])
        if reset_code is not None and matched:
            password_validation.validate_password(password, user)
            user.set_password(password)
            user.save(update_fields=["password"])
            reset_code.used_at = now
            if reset_code.confirmed_at is None:
                reset_code.confirmed_at = now
            reset_code.save(update_fields=["used_at", "confirmed_at"])
            _tell_patient_password_changed(user=user, reset_code=reset_code)
    if reset_code is None or not matched:
        logger.info("reset code rejected: user=%s", user.pk)
        raise ResetCodeRejected
    logger.info("reset code redeemed: user=%s code=%s", user.pk, reset_code.pk)
    lockout_clear(user=user)
    return user


def _tell_patient_password_changed(*, user: User, reset_code: ResetCode) -> None:
    """A notice they must read at their next sign-in, and a PHI-free email."""
    AccountNotice.objects.create(
        organization_id=reset_code.organization_id,
        user=user,
        kind=AccountNotice.Kind.PASSWORD_SET_WITH_STAFF_CODE,
        reset_code=reset_code,
    )
    address = user.email
    if address:
        transaction.on_commit(lambda: _send_password_changed_email(address))


def _send_password_changed_email(address: str) -> None:
    subject = _("Tether: your password was changed")
    body = _(
        "The password of your Tether account was just changed with a reset code from "
        "your program's staff.\n\n"
        "If this was you, there is nothing to do. If it was not you, call your program "
        "now and ask them to lock your account.\n\n"
        "Sign in: %(link)s"
    ) % {"link": settings.SITE_URL.rstrip("/") + reverse("accounts:login")}
    try:
        EmailMessage(subject, body, to=[address]).send()
    except Exception:
        # The password change is committed; a mail outage must not undo it. No address
        # in the log.
        logger.exception("could not send the password-changed email")


def email_verified(*, user: User) -> None:
    """The person followed a link sent to their email: that address is theirs."""
    if user.email:
        User.objects.filter(pk=user.pk).update(email_verified_at=timezone.now())


def account_notices_pending(*, user: User) -> bool:
    return AccountNotice.objects.filter(user=user, seen_at__isnull=True).exists()


def account_notices_seen(*, user: User) -> int:
    return AccountNotice.objects.filter(user=user, seen_at__isnull=True).update(
        seen_at=timezone.now()
    )


def lockout_clear(*, user: User) -> None:
    """After a proven password reset, lift the sign-in pause on this person's names
    (a patient locked out by mistyping should not wait 15 minutes more). The pause
    on the network address stays."""
    for name in {user.get_username(), user.email}:
        if name:
            axes_reset(username=lockout_key(name))


# --- Staff two-step sign-in reset ("I lost my phone") -------------------------------


class TwoStepResetRefused(Exception):
    """The actor may not reset this person's two-step sign-in (views answer 404)."""


def two_step_reset_allowed(*, actor: User, target: StaffMember) -> bool:
    """A program admin of the same organization, for anyone on its staff but themselves."""
    admin = getattr(actor, "staff_member", None) if actor.is_staff_member else None
    return (
        admin is not None
        and admin.is_active
        and admin.role == StaffMember.Role.PROGRAM_ADMIN
        and target.organization_id == admin.organization_id
        and target.user_id != actor.pk
    )


def sessions_end(*, user: User) -> int:
    """Sign this person out everywhere (sessions live in the database)."""
    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk)
    ]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


def _notify_two_step_reset(*, actor: User, target: StaffMember) -> None:
    from tether.notifications.models import Notification
    from tether.notifications.services import notify

    officers = User.objects.filter(
        staff_member__organization_id=target.organization_id,
        staff_member__role=StaffMember.Role.PRIVACY_OFFICER,
        staff_member__is_active=True,
        is_active=True,
    ).exclude(pk=actor.pk)
    notify(
        recipients=[target.user, *officers],
        kind=Notification.Kind.TWO_STEP_RESET,
        organization=target.organization,
        actor=actor,
    )


def two_step_reset(
    *,
    actor: User,
    target: StaffMember,
    reason: str,
    note: str = "",
    request: HttpRequest | None = None,
) -> TwoStepReset:
    """Remove every authenticator app of ``target`` and sign them out everywhere, so the
    next sign-in asks them to set one up again. Audited in the same transaction."""
    if not two_step_reset_allowed(actor=actor, target=target):
        raise TwoStepResetRefused
    if reason not in TwoStepReset.Reason.values:
        raise ValueError("Unknown reason.")
    user = target.user
    with transaction.atomic():
        removed, _details = TOTPDevice.objects.filter(user=user).delete()
        reset = TwoStepReset.objects.create(
            organization_id=target.organization_id,
            user=user,
            reset_by=actor,
            reason=reason,
            note=note.strip(),
            devices_removed=removed,
        )
        audit.record(
            request=request,
            actor=actor,
            patient=None,
            action=Action.UPDATE,
            category=Category.GENERAL,
            purpose=Purpose.OPERATIONS,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=reset,
        )
        # A session that already passed the check must not enrol a new phone for them.
        ended = sessions_end(user=user)
        # The person and the privacy officers hear of it (a change to how they sign in:
        # in the app and by a PHI-free email), so a reset nobody asked for is noticed.
        _notify_two_step_reset(actor=actor, target=target)
    logger.info(
        "two-step sign-in reset: user=%s by=%s reset=%s devices=%s sessions=%s",
        user.pk,
        actor.pk,
        reset.pk,
        removed,
        ended,
    )
    return reset


# --- Staff authenticator enrolment by a one-time link ---------------------------------


@dataclass(frozen=True)
class IssuedEnrolmentLink:
    link: StaffEnrolmentLink
    token: str  # shown once, never stored


def enrolment_link_create(
    *, user: User, created_by: User | None, request: HttpRequest | None = None
) -> IssuedEnrolmentLink:
    """A fresh set-up link for a staff member's authenticator app; older unused links for
    the same person stop working. Audited (ids only) in the same transaction. The caller
    checks who may (``two_step_reset_allowed``: a program admin, for a colleague)."""
    if not user.is_staff_member or user.organization_id is None:
        raise ValueError("Set-up links are for staff of an organization.")
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        StaffEnrolmentLink.objects.filter(
            user=user, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        link = StaffEnrolmentLink.objects.create(
            organization_id=user.organization_id,
            user=user,
            token_hash=hash_secret(token),
            created_by=created_by,
            created_at=now,
            expires_at=now + timedelta(hours=settings.TETHER_STAFF_ENROLMENT_VALID_HOURS),
        )
        audit.record(
            request=request,
            actor=created_by,
            patient=None,
            action=Action.CREATE,
            category=Category.GENERAL,
            purpose=Purpose.OPERATIONS,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=link,
        )
    logger.info("staff set-up link made: user=%s link=%s", user.pk, link.pk)
    return IssuedEnrolmentLink(link=link, token=token)


def enrolment_link_find(*, token: str, user: User) -> StaffEnrolmentLink | None:
    """The usable link with this token for this signed-in person, or None."""
    link = StaffEnrolmentLink.objects.filter(token_hash=hash_secret(token), user_id=user.pk).first()
    return link if link is not None and link.is_usable() else None


def enrolment_link_usable(*, link_id: int | None, user: User) -> bool:
    if link_id is None:
        return False
    link = StaffEnrolmentLink.objects.filter(pk=link_id, user_id=user.pk).first()
    return link is not None and link.is_usable()


def enrolment_link_use(*, link_id: int, user: User) -> bool:
    """Use the link up as the app is confirmed (call inside that transaction); False if
    it stopped working meanwhile."""
    link = (
        StaffEnrolmentLink.objects.select_for_update(no_key=True)
        .filter(pk=link_id, user_id=user.pk)
        .first()
    )
    if link is None or not link.is_usable():
        return False
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    return True


def user_language_set(*, request: HttpRequest | None, user: User, language: str) -> None:
    """The language this person reads Tether in, chosen by them (or for a patient by
    staff at intake). Audited by code only; raises ValueError on an unknown code."""
    if language not in User.Language.values:
        raise ValueError(f"Unknown language code {language!r}")
    with transaction.atomic():
        if user.language == language:
            return
        user.language = language
        user.save(update_fields=["language"])
        audit.record(
            request=request,
            actor=user,
            patient=_patient_of(user),
            action=Action.UPDATE,
            category=Category.GENERAL,
            purpose=Purpose.PATIENT_REQUEST if user.is_patient else Purpose.OPERATIONS,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=user,
        )
