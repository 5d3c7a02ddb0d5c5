"""Session lifetime and multi-factor enforcement.

- Idle time-out by kind of user (staff 15 minutes, patients 30; settings) and an
  absolute lifetime (ASVS 7.3.1/7.3.2, ONC (d)(5)). The session is flushed on
  the server, not just forgotten by the browser.
- Staff must pass a TOTP check before anything else (ASVS 6.3.3); a patient who
  turned multi-factor on must pass it too.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import LazyObject, empty
from django.utils.http import urlencode
from django_otp import user_has_device

from tether.accounts.backends import HAS_DEVICE

SESSION_LAST_SEEN = "tether_last_seen"
SESSION_STARTED = "tether_started"
_TOUCH_EVERY_SECONDS = 30  # avoid a session write on every request


def idle_limit_seconds(user: object) -> int:
    minutes = (
        settings.TETHER_STAFF_IDLE_MINUTES
        if getattr(user, "is_staff_member", False)
        else settings.TETHER_PATIENT_IDLE_MINUTES
    )
    return int(minutes) * 60


class ResolvedUserMiddleware:
    """``request.user`` read once and kept as the user itself, not the lazy objects that
    Django's ``AuthenticationMiddleware`` and django-otp's ``OTPMiddleware`` put there:
    every attribute read through them goes through two proxies, and a list page reads
    the user's id hundreds of times (the gate's memo, the audit rows). Comes right after
    ``OTPMiddleware`` (the user it returns carries ``is_verified``); the rest of the
    stack, the views and the templates see the same user as before."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        while isinstance(user, LazyObject):
            if user._wrapped is empty:
                user._setup()
            user = user._wrapped
        if user is not None:
            request.user = user
        return self.get_response(request)


class SessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            session = request.session
            started = session.get(SESSION_STARTED)
            last_seen = session.get(SESSION_LAST_SEEN)
            if started is None:
                session[SESSION_STARTED] = now
                session[SESSION_LAST_SEEN] = now
            else:
                idle_for = now - float(last_seen or started)
                age = now - float(started)
                if (
                    idle_for > idle_limit_seconds(user)
                    or age > settings.TETHER_SESSION_ABSOLUTE_HOURS * 3600
                ):
                    logout(request)
                    return redirect(reverse("accounts:timed_out"))
                if now - float(last_seen or 0) > _TOUCH_EVERY_SECONDS:
                    session[SESSION_LAST_SEEN] = now
        return self.get_response(request)


# Paths a signed-in but not yet verified person may still reach.
_MFA_EXEMPT_NAMES = (
    "accounts:mfa_setup",
    "accounts:mfa_verify",
    "accounts:logout",
    "crisis:crisis",
)


class StaffMFAMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._exempt: tuple[str, ...] | None = None

    def _exempt_paths(self) -> tuple[str, ...]:
        if self._exempt is None:
            self._exempt = tuple(reverse(name) for name in _MFA_EXEMPT_NAMES)
        return self._exempt

    @staticmethod
    def _is_enrolment_link(path: str) -> bool:
        # The staff set-up link (accounts:mfa_enrol) is opened before the app exists.
        return path.startswith(reverse("accounts:mfa_enrol", args=["x"])[:-2])

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not user.is_verified()
            and request.path not in self._exempt_paths()
            and not self._is_enrolment_link(request.path)
            and not request.path.startswith(settings.STATIC_URL)
        ):
            # Read with the user row in this request where it came through
            # ``UsernameOrEmailBackend.get_user``; asked on its own otherwise.
            has_device = getattr(user, HAS_DEVICE, None)
            if has_device is None:
                has_device = user_has_device(user, confirmed=True)
            if has_device:
                return redirect(
                    reverse("accounts:mfa_verify") + "?" + urlencode({"next": request.path})
                )
            if user.is_staff_member and settings.TETHER_STAFF_MFA_REQUIRED:
                return redirect(reverse("accounts:mfa_setup"))
        return self.get_response(request)
