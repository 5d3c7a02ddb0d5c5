"""How often someone may ask for a password-reset email.

Counted per email address (hashed) and per client address, in fixed windows, in
Django's cache, whether or not the address belongs to an account: the limit then says
nothing about which accounts exist. Settings: ``TETHER_RESET_EMAIL_PER_ADDRESS``,
``TETHER_RESET_EMAIL_PER_CLIENT``, ``TETHER_RESET_EMAIL_WINDOW_MINUTES``. With the
default in-process cache the counts are per server process (docs/OPERATIONS.md).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache

from tether.accounts.models import hash_secret

logger = logging.getLogger("tether.accounts")


def _count(key: str, window_seconds: int) -> int:
    cache.add(key, 0, timeout=window_seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: this request starts a new window
        cache.set(key, 1, timeout=window_seconds)
        return 1


def reset_email_allowed(*, email: str, client_address: str | None) -> bool:
    """Count one request for a reset email; False once either limit is passed."""
    window = settings.TETHER_RESET_EMAIL_WINDOW_MINUTES * 60
    by_address = _count("tether:reset-email:address:" + hash_secret(email.strip().lower()), window)
    by_client = _count(f"tether:reset-email:client:{client_address or 'unknown'}", window)
    over_address = by_address > settings.TETHER_RESET_EMAIL_PER_ADDRESS
    over_client = by_client > settings.TETHER_RESET_EMAIL_PER_CLIENT
    if over_address or over_client:
        # No email address, no account: only which limit was reached.
        logger.info(
            "reset email refused, too many requests: by=%s",
            "address" if over_address else "client",
        )
        return False
    return True
