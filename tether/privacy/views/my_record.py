"""Stub: filled in by the privacy-core work (issue 3)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def who_viewed(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError
