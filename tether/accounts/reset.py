"""Forgotten passwords: email link or front-desk code. Filled in by the accounts work."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse


class PasswordResetRequestView(auth_views.PasswordResetView):
    pass


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    pass


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    pass


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    pass


def reset_with_code(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError
