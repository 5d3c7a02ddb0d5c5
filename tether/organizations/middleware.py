"""Show times in the program's time zone.

Times are stored in UTC. A 4 PM teen group in New York must read "4:00 PM" to the
teen, their parent and their clinician, wherever the server runs.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from tether.organizations.selectors import time_zone_for


class ProgramTimezoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        zone_name = time_zone_for(user) if user is not None and user.is_authenticated else None
        if zone_name:
            timezone.activate(zoneinfo.ZoneInfo(zone_name))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
