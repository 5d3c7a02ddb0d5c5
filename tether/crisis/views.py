from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tether.crisis.resources import NATIONAL_CONTACTS, program_contacts
from tether.crisis.selectors import program_for_crisis_help, programs_for_public_page


def crisis(request: HttpRequest) -> HttpResponse:
    """Crisis help: works signed in or out, with no JavaScript."""
    program = program_for_crisis_help(request.user)
    if program is not None:
        program_groups = [(program, program_contacts(program))]
    else:
        program_groups = [(p, program_contacts(p)) for p in programs_for_public_page()]
    return render(
        request,
        "crisis/crisis.html",
        {
            "national_contacts": NATIONAL_CONTACTS,
            "program_groups": program_groups,
            "own_program": program,
        },
    )
