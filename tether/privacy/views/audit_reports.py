"""Stub: filled in by the privacy-core work (issue 3)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def audit_report(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def audit_report_csv(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError
