"""Keeps what the crisis page needs for a database outage (tether/crisis/offline.py).

On every response to a signed-in patient or proxy whose page named their program (the
crisis context processor sets ``request.crisis_program_id``), the program hint cookie
is set, bound to their session; on a signed-out response it is removed.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from tether.crisis import offline
from tether.crisis.resilience import DATABASE_ERRORS


class CrisisOfflineMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        self._remember_program(request, response)
        return response

    def _remember_program(self, request: HttpRequest, response: HttpResponse) -> None:
        program_id = getattr(request, "crisis_program_id", None)
        session = getattr(request, "session", None)
        session_key = session.session_key if session is not None else None
        if program_id is not None and session_key:
            value = offline.hint_value(program_id=program_id, session_key=session_key)
            if request.COOKIES.get(offline.HINT_COOKIE) != value:
                response.set_cookie(
                    offline.HINT_COOKIE,
                    value,
                    max_age=settings.SESSION_COOKIE_AGE,
                    secure=settings.SESSION_COOKIE_SECURE,
                    httponly=True,
                    samesite="Lax",
                )
            return
        if offline.HINT_COOKIE in request.COOKIES:
            try:
                signed_in = request.user.is_authenticated
            except DATABASE_ERRORS:
                return  # cannot tell during an outage: leave it
            if not signed_in:
                response.delete_cookie(offline.HINT_COOKIE, samesite="Lax")
