"""Sign-in pauses (ASVS 6.3.1): the account is paused, the address only rate-limited.

- **Per account** (django-axes, ``AXES_LOCKOUT_PARAMETERS = ["username"]``): after
  ``LOGIN_FAILURE_LIMIT`` wrong passwords for one name, from any address, that account's
  sign-in pauses for ``LOGIN_LOCKOUT_MINUTES``; each further pause of the same account
  within a day doubles it, up to ``LOGIN_LOCKOUT_MAX_MINUTES`` (``cool_off``). The
  shared-device unlock counts against the patient's own account the same way.
- **Per address** (``AddressLimitBackend``): only after ``LOGIN_ADDRESS_FAILURE_LIMIT``
  failures across any names from one client address (``addresses.client_address``, the
  real client behind the trusted proxy) within ``LOGIN_ADDRESS_WINDOW_MINUTES`` does that
  address pause, until the window ends. A waiting room on one Wi-Fi, twenty patients each
  mistyping once or twice, is far below it.
- **A way through**: a program admin or the privacy officer lifts a pause for anyone of
  their organization at once (``lockout_lift``, audited; the page is
  ``accounts:sign_in_pauses``), and the paused page says so. docs/OPERATIONS.md.

Counts kept in Django's cache (the address window, how often an account was paused
today) are per server process with the default in-process cache; production uses a
shared cache (``CACHE_BACKEND``).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from axes.models import AccessAttempt
from axes.signals import user_locked_out
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from tether.accounts.addresses import client_address
from tether.accounts.backends import lockout_key
from tether.accounts.models import User, hash_secret
from tether.organizations.models import StaffMember
from tether.privacy import audit
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category

logger = logging.getLogger("tether.accounts")

LIFTERS = frozenset({StaffMember.Role.PROGRAM_ADMIN, StaffMember.Role.PRIVACY_OFFICER})
_DAY = 24 * 60 * 60


def _pauses_key(name: str) -> str:
    return "tether:sign-in:pauses:" + hash_secret(name)


def _address_key(address: str | None) -> str:
    return f"tether:sign-in:address:{address or 'unknown'}"


def username_of(request: HttpRequest | None) -> str:
    """The account a sign-in is for: the typed name, or (the shared-device unlock) the
    signed-in person's own."""
    if request is None:
        return ""
    typed = request.POST.get(settings.AXES_USERNAME_FORM_FIELD)
    if typed is None:
        credentials = getattr(request, "axes_credentials", None) or {}
        typed = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    user = getattr(request, "user", None)
    if typed is None and user is not None and user.is_authenticated:
        typed = user.get_username()
    return lockout_key(str(typed or ""))


def _cool_off_for(name: str) -> dt.timedelta:
    pauses = int(cache.get(_pauses_key(name), 0)) if name else 0
    minutes = settings.TETHER_LOGIN_LOCKOUT_MINUTES * 2 ** max(0, pauses - 1)
    return dt.timedelta(minutes=min(minutes, settings.TETHER_LOGIN_LOCKOUT_MAX_MINUTES))


def cool_off(request: HttpRequest | None = None) -> dt.timedelta:
    """``AXES_COOLOFF_TIME``: short at first, doubled for each pause of the same account
    within a day, capped."""
    return _cool_off_for(username_of(request))


def pause_minutes(request: HttpRequest) -> int:
    return int(cool_off(request).total_seconds() // 60)


@receiver(user_locked_out)
def _count_pause(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    # axes says "locked out" again at every try while paused: count the pause once, at
    # the failure that started it.
    failures = getattr(request, "axes_failures_since_start", None)
    if failures != settings.AXES_FAILURE_LIMIT:
        return
    key = _pauses_key(username_of(request))
    cache.add(key, 0, timeout=_DAY)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=_DAY)


@receiver(user_login_failed)
def _count_address_failure(
    sender: Any, credentials: Any = None, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    if request is None or getattr(request, "tether_address_paused", False):
        return  # refused for the address already: not another failure of its own
    window = settings.TETHER_LOGIN_ADDRESS_WINDOW_MINUTES * 60
    key = _address_key(client_address(request))
    cache.add(key, 0, timeout=window)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=window)


def address_paused(request: HttpRequest) -> bool:
    failures = cache.get(_address_key(client_address(request)), 0)
    return int(failures) >= settings.TETHER_LOGIN_ADDRESS_FAILURE_LIMIT


class AddressLimitBackend:
    """Second in ``AUTHENTICATION_BACKENDS`` (after axes): refuses every sign-in from an
    address past its (loose) limit, with the same "paused" page as an account pause.

    No ``get_user`` on purpose (not a ``BaseBackend``): it never signs anyone in, so a
    session must never name it as the backend that loads the user."""

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        if request is not None and address_paused(request):
            logger.info("sign-in refused: address paused")
            request.tether_address_paused = True  # type: ignore[attr-defined]
            request.axes_locked_out = True  # type: ignore[attr-defined]
            raise PermissionDenied
        return None


# --- Lifting a pause ------------------------------------------------------------------


def _names_of(user: User) -> set[str]:
    names = {lockout_key(user.username)}
    if user.email:
        names.add(lockout_key(user.email))
    return names


def paused_users(*, organization_id: int) -> list[tuple[User, dt.datetime]]:
    """People of this organization whose account is paused now, with when it ends."""
    now = timezone.now()
    limit = settings.AXES_FAILURE_LIMIT
    attempts = list(
        AccessAttempt.objects.filter(failures_since_start__gte=limit).values_list(
            "username", "attempt_time"
        )
    )
    if not attempts:
        return []
    last_by_name: dict[str, dt.datetime] = {}
    for name, when in attempts:
        if name:
            last_by_name[name] = max(when, last_by_name.get(name, when))
    query = Q()
    for name in last_by_name:
        query |= Q(username__iexact=name) | Q(email__iexact=name)
    rows = []
    users = User.objects.filter(query, organization_id=organization_id).order_by(
        "last_name", "first_name", "pk"
    )
    for user in users:
        ends = [last_by_name[n] + _cool_off_for(n) for n in _names_of(user) if n in last_by_name]
        if ends and max(ends) > now:
            rows.append((user, max(ends)))
    return rows


class LiftRefused(Exception):
    pass


def lift_allowed(*, actor: User, target: User) -> bool:
    staff = getattr(actor, "staff_member", None) if actor.is_staff_member else None
    return (
        staff is not None
        and staff.is_active
        and staff.role in LIFTERS
        and target.organization_id == staff.organization_id
    )


def lockout_lift(*, actor: User, target: User, request: HttpRequest | None = None) -> int:
    """Lift the pause on ``target``'s account now (and forget today's pauses, so the
    next one is short again). Audited: who lifted whose, ids only."""
    if not lift_allowed(actor=actor, target=target):
        raise LiftRefused
    with transaction.atomic():
        removed = sum(int(axes_reset(username=name)) for name in _names_of(target))
        audit.record(
            request=request,
            actor=actor,
            patient=None,  # an account operation, not a record: the account is the object
            action=Action.UPDATE,
            category=Category.GENERAL,
            purpose=Purpose.OPERATIONS,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=target,
        )
    for name in _names_of(target):
        cache.delete(_pauses_key(name))
    return removed
