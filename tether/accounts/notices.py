"""Notices about a person's own account that they must see at their next sign-in.

When staff replaced someone's password with a reset code, the next sign-in shows what
happened (when, by which role, how their identity was confirmed) before any other page,
until they say they have read it. If it was not them, they know at once whom to call.

At sign-in (``user_logged_in``) one query sets a session flag; the middleware then
only reads the session, so no page pays a query for this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from tether.accounts import services
from tether.accounts.models import AccountNotice, User

SESSION_PENDING = "tether_account_notice"

_EXEMPT_NAMES = (
    "accounts:account_notice",
    "accounts:logout",
    "accounts:mfa_setup",
    "accounts:mfa_verify",
    "crisis:crisis",
)


def on_sign_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    if services.account_notices_pending(user=user):
        request.session[SESSION_PENDING] = True
    else:
        request.session.pop(SESSION_PENDING, None)


class AccountNoticeMiddleware:
    """Until the person has read their notice, every page but crisis help (and signing
    out, and the two-step check) leads to it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._exempt: tuple[str, ...] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if (
            session is not None
            and session.get(SESSION_PENDING)
            and request.user.is_authenticated
            and not request.path.startswith(settings.STATIC_URL)
        ):
            if self._exempt is None:
                self._exempt = tuple(reverse(name) for name in _EXEMPT_NAMES)
            if request.path not in self._exempt:
                return redirect("accounts:account_notice")
        return self.get_response(request)


@login_required
@require_http_methods(["GET", "POST"])
def account_notice(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User):  # login_required ran first; this only narrows the type
        raise Http404
    if request.method == "POST":
        services.account_notices_seen(user=user)
        request.session.pop(SESSION_PENDING, None)
        return redirect("home")
    notices = list(
        AccountNotice.objects.filter(user=user, seen_at__isnull=True)
        .select_related("reset_code__created_by__staff_member")
        .order_by("created_at")
    )
    if not notices:
        request.session.pop(SESSION_PENDING, None)
        return redirect("home")
    base = "patient/base_patient.html" if user.is_patient else "base.html"
    return render(request, "accounts/account_notice.html", {"notices": notices, "base": base})
