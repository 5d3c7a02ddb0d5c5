"""Invite links for new patients. Filled in by the accounts work."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def accept_invite(request: HttpRequest, token: str) -> HttpResponse:
    raise NotImplementedError
