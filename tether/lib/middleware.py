"""Cross-cutting response headers."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control


class NoStoreMiddleware:
    """Every dynamic page is ``Cache-Control: no-store`` (ASVS 14.3.2).

    Health data must never sit in a shared phone's browser cache. Static files
    are served by WhiteNoise before this runs, so they keep their long caching.
    Pages may opt in to caching explicitly (the offline crisis page does).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not getattr(response, "tether_cacheable", False):
            add_never_cache_headers(response)
            patch_cache_control(response, no_store=True, private=True)
        return response
