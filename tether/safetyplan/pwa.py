"""The installable web app: manifest and service worker.

The service worker is served from the site root (``/sw.js``) so that its scope
covers the patient pages. It caches nothing until the patient opts in on the
safety-plan page (see ``tether/static/js/offline.js``); then it keeps only the
offline copy of the safety plan, the crisis page and the stylesheet.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET

CACHE_NAME = "tether-offline-v1"


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    response = render(
        request,
        "safetyplan/sw.js",
        {
            "cache_name": CACHE_NAME,
            "offline_copy_url": reverse("safety_plan:offline_copy"),
            "crisis_url": reverse("crisis:crisis"),
        },
        content_type="application/javascript; charset=utf-8",
    )
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    data = {
        "name": "Tether",
        "short_name": "Tether",
        "description": "Your treatment program between sessions.",
        "start_url": reverse("home"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#f3f5f7",
        "theme_color": "#1f5f8b",
        "icons": [
            {"src": static("pwa/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("pwa/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("pwa/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
            {"src": static("pwa/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    response = HttpResponse(json.dumps(data), content_type="application/manifest+json")
    response.tether_cacheable = True  # type: ignore[attr-defined]  # no health data
    response["Cache-Control"] = "public, max-age=3600"
    return response
