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
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.backends import lockout_key
from tether.accounts.models import Invite, ResetCode, TwoStepReset, User, hash_secret
from tether.organizations.models import StaffMember
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
    """A fresh single-use invite; any older unused invite for the same person stops working."""
    if user.organization_id is None:
        raise ValueError("Invites are only for people who belong to an organization.")
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


def reset_code_issue(*, user: User, created_by: User) -> IssuedResetCode:
    """An 8-digit code for the front desk to hand over in person. Digits only:
    they are the easiest thing to type on any phone."""
    if user.organization_id is None:
        raise ValueError("Reset codes are only for people who belong to an organization.")
    now = timezone.now()
    code = "".join(secrets.choice("0123456789") for _ in range(8))
    with transaction.atomic():
        ResetCode.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
        reset_code = ResetCode.objects.create(
            organization_id=user.organization_id,
            user=user,
            code_hash=hash_secret(code),
            created_by=created_by,
            created_at=now,
            expires_at=now + timedelta(hours=settings.TETHER_RESET_CODE_VALID_HOURS),
        )
    return IssuedResetCode(reset_code=reset_code, code=code)


def invite_accept(*, invite: Invite, password: str) -> User:
    """Set the invited person's first password and use up the invite, once.

    The invite row is locked, so two taps on "Save" (or two phones) cannot both
    succeed. Raises ``InviteNotUsable`` if it stopped working meanwhile, and
    ``ValidationError`` if the password is not accepted (nothing is changed then).
    """
    with transaction.atomic():
        locked = (
            Invite.objects.select_for_update(no_key=True, of=("self",)).select_related("user").get(pk=invite.pk)
        )
        user = locked.user
        if not locked.is_usable() or not user.is_active:
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


def reset_code_redeem(*, username: str, code: str, password: str) -> User:
    """Redeem a front-desk reset code: check it, set the new password, use the code up.

    A wrong code counts against the person's current code; after
    ``TETHER_RESET_CODE_MAX_ATTEMPTS`` wrong tries it stops working. Raises
    ``ResetCodeRejected`` (one outcome for every kind of failure) or
    ``ValidationError`` when the code is right but the password is not accepted;
    then the code stays usable and no attempt is counted.

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
        if reset_code is not None and not matched:
            reset_code.failed_attempts += 1
            reset_code.save(update_fields=["failed_attempts"])
        if reset_code is not None and matched:
            password_validation.validate_password(password, user)
            user.set_password(password)
            user.save(update_fields=["password"])
            reset_code.used_at = now
            reset_code.save(update_fields=["used_at"])
    if reset_code is None or not matched:
        logger.info("reset code rejected: user=%s", user.pk)
        raise ResetCodeRejected
    logger.info("reset code redeemed: user=%s code=%s", user.pk, reset_code.pk)
    lockout_clear(user=user)
    return user


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
