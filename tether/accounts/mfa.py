"""Two-step sign-in with an authenticator app (TOTP). Filled in by the accounts work."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def setup(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def verify(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError
