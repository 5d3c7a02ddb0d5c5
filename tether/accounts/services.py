"""Writes about accounts: invites and front-desk reset codes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tether.accounts.models import Invite, ResetCode, User, hash_secret


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
    invite = (
        Invite.objects.select_related("user").filter(token_hash=hash_secret(token)).first()
    )
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
