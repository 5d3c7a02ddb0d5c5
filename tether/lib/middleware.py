"""Cross-cutting response headers."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control

# Features this site never uses, switched off for it and for anything it embeds: a page
# with health data has no business with the camera, microphone or location.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "usb",
    )
)


class SecurityHeadersMiddleware:
    """Headers every response carries, static files included (first in ``MIDDLEWARE``,
    so it wraps WhiteNoise too):

    - ``Cross-Origin-Resource-Policy: same-origin``: no other site may load our pages,
      images or files into theirs (ASVS 3.4);
    - ``Permissions-Policy``: the browser features above are off;
    - no ``Server`` header from the application (gunicorn's own is removed by
      ``gunicorn.conf.py``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if "Server" in response.headers:
            del response.headers["Server"]
        return response


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
