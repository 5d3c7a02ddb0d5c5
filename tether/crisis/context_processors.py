from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tether.crisis.selectors import program_for_crisis_help


def crisis_contacts(request: HttpRequest) -> dict[str, Any]:
    """The program whose crisis line the header link should lead with."""
    return {"crisis_program": program_for_crisis_help(request.user)}
