"""Shared-device view: on a device the patient marked as shared, only appointments,
general help and crisis help show until a fresh full sign-in; a patient in a Part 2
program must then also choose "show my substance-use treatment information".

The mark is a cookie holding only "1" (no health data, nothing in browser storage);
the unlocked state lives in the server-side session, so signing out locks it again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from tether.accounts.models import User
from tether.patients.models import Episode

COOKIE = "tether_shared_device"
FULL_VIEW = "tether_full_view"
PART2_SHOWN = "tether_part2_shown"
COOKIE_AGE = 60 * 60 * 24 * 365

# What a locked shared device may open: the quick view itself, unlocking, crisis help,
# signing in and out.
OPEN_APPS = frozenset({"accounts", "crisis"})
OPEN_VIEWS = frozenset(
    {
        "consent:quick_view",
        "consent:unlock",
        "consent:show_part2",
        "consent:device",
        "healthz",
        "healthz_live",
        "home",
        # The PWA shell holds no health data; blocking it would only break the app.
        "safety_plan:service_worker",
        "safety_plan:manifest",
    }
)


def is_shared(request: HttpRequest) -> bool:
    return request.COOKIES.get(COOKIE) == "1"


def in_part2_program(user: User) -> bool:
    return Episode.objects.filter(
        patient__user=user, status=Episode.Status.ACTIVE, program__treats_substance_use=True
    ).exists()


def mark(response: HttpResponse, *, shared: bool) -> None:
    if shared:
        response.set_cookie(
            COOKIE,
            "1",
            max_age=COOKIE_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    else:
        response.delete_cookie(COOKIE, samesite="Lax")


class SharedDeviceMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if not isinstance(user, User) or not user.is_patient or not is_shared(request):
            return None
        match = request.resolver_match
        if match is None or match.app_name in OPEN_APPS or match.view_name in OPEN_VIEWS:
            return None
        if not request.session.get(FULL_VIEW):
            return redirect("consent:quick_view")
        if not request.session.get(PART2_SHOWN) and in_part2_program(user):
            return redirect("consent:show_part2")
        return None
