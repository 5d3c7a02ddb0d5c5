"""Stub: filled in by the privacy-core work (issue 3)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def request_access(request: HttpRequest, patient_id: int) -> HttpResponse:
    raise NotImplementedError
