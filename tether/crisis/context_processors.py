from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tether.crisis.selectors import crisis_program_for_request


def crisis_contacts(request: HttpRequest) -> dict[str, Any]:
    """The program whose crisis line the header link should lead with.

    Also noted on the request, so that CrisisOfflineMiddleware can remember it (bound to
    the session) for the page shown while the database is down."""
    program = crisis_program_for_request(request)
    if program is not None:
        request.crisis_program_id = program.pk  # type: ignore[attr-defined]  # read by CrisisOfflineMiddleware
    return {"crisis_program": program}
