"""The reader's language: the account's choice applied on every request, and the
switch (POST /accounts/language/) that works signed in or out.

Django's LocaleMiddleware has already picked a language from the cookie or the
browser's Accept-Language header; a signed-in person's saved choice wins over both,
so a patient who chose Spanish reads Spanish on any phone they sign in on.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from tether.accounts.models import User
from tether.accounts.services import user_language_set


def remember(response: HttpResponse, language: str) -> None:
    """The language cookie, so signed-out pages (sign-in, crisis) keep the choice."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )


class UserLanguageMiddleware:
    """After AuthenticationMiddleware: a signed-in person's saved language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        try:
            language = getattr(user, "language", "") if user is not None else ""
        except (OperationalError, InterfaceError):
            # The database is down: the cookie or the browser's language decides, and
            # the crisis page's outage handler (tether/crisis/offline.py) still answers.
            language = ""
        if language and user is not None and user.is_authenticated:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


@require_POST
def set_language(request: HttpRequest) -> HttpResponseRedirect:
    """Switch language. Signed out: a cookie only. Signed in: saved on the account."""
    language = request.POST.get("language", "")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = redirect(target)
    if language not in User.Language.values:
        return response
    user = request.user
    if user.is_authenticated and isinstance(user, User):
        user_language_set(request=request, user=user, language=language)
    translation.activate(language)
    remember(response, language)
    return response
