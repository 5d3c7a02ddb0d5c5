from __future__ import annotations

import logging
import sys

from django.contrib.auth.views import redirect_to_login
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from tether.accounts.models import User
from tether.crisis import offline, services
from tether.crisis.models import UrgentContactEvent, UrgentContactRequest
from tether.crisis.resilience import DATABASE_ERRORS
from tether.crisis.resources import NATIONAL_CONTACTS, program_contacts
from tether.crisis.selectors import (
    open_request_for,
    program_for_crisis_help,
    programs_for_public_page,
)
from tether.organizations.hosts import organization_for_request
from tether.patients.models import Patient
from tether.privacy import audit
from tether.privacy.gate import access_own_record
from tether.privacy.models import Purpose
from tether.privacy.policy import Action

logger = logging.getLogger(__name__)


def _organization_id_for_page(request: HttpRequest) -> int | None:
    """Whose programs to list when the visitor has no program of their own.

    Signed in (staff, or a patient between episodes): their own organization.
    Signed out: the organization this host serves (TETHER_HOST_ORGANIZATIONS), or
    none at all, so a stranger never learns which organizations use Tether.
    """
    user = request.user
    if isinstance(user, User) and user.organization_id is not None:
        return user.organization_id
    organization = organization_for_request(request)
    return organization.pk if organization is not None else None


def crisis(request: HttpRequest) -> HttpResponse:
    """Crisis help: works signed in or out, with no JavaScript."""
    program = program_for_crisis_help(request.user)
    if program is not None:
        program_groups = [(program, program_contacts(program))]
    else:
        programs = programs_for_public_page(_organization_id_for_page(request))
        program_groups = [(p, program_contacts(p)) for p in programs]
    user = request.user
    patient_id = (
        user.patient.pk
        if isinstance(user, User) and user.is_patient and hasattr(user, "patient")
        else None
    )
    return render(
        request,
        "crisis/crisis.html",
        {
            "national_contacts": NATIONAL_CONTACTS,
            "program_groups": program_groups,
            "own_program": program,
            # No program line to show: tell them where their program's number is.
            "show_paperwork_hint": not program_groups,
            "can_ask_urgent": patient_id is not None,
            "open_request": open_request_for(patient_id=patient_id) if patient_id else None,
        },
    )


def not_delivered(request: HttpRequest) -> HttpResponse:
    """What a patient sees when their request or message could not be saved (503).

    Rendered without the request's context processors and without the database: the
    national numbers kept in code, their program's line from the crisis-line snapshot,
    and what they typed, with a way to send it again (tether/crisis/offline.py).
    """
    return offline.unavailable(request, not_delivered=True)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500. The database unreachable (anywhere: a session load in a middleware, a
    view): the 503 crisis page. Any other error: the plain 500 page, which needs no
    database either."""
    if isinstance(sys.exception(), DATABASE_ERRORS):
        logger.warning("database unreachable: served the crisis fallback page (503)")
        return offline.unavailable(request)
    return HttpResponse(render_to_string("500.html"), status=500)


def _own_patient(request: HttpRequest) -> Patient:
    action = Action.CREATE if request.method == "POST" else Action.VIEW
    return access_own_record(request, category=services.CATEGORY, action=action)


@require_POST
def urgent_request(request: HttpRequest) -> HttpResponse:
    """The patient's "Ask my care team to contact me urgently" button."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    patient: Patient | None = None
    try:
        patient = _own_patient(request)
        urgent = services.urgent_contact_raise(
            patient=patient,
            source=UrgentContactRequest.Source.PATIENT_BUTTON,
            actor=request.user,
        )
    except (DatabaseError, services.NoProgramError):
        logger.exception("An urgent-contact request could not be saved")
        # Never tell a patient the team was not told when it was: if an open request
        # is there (this tap's, committed before the failure, or an earlier one the
        # team already has), show it.
        recorded = _open_request_despite_error(patient)
        if recorded is not None:
            return redirect("crisis:urgent_status", request_id=recorded)
        # Never a silent failure: say plainly it did not go through, and who to call.
        return not_delivered(request)
    return redirect("crisis:urgent_status", request_id=urgent.pk)


def _open_request_despite_error(patient: Patient | None) -> int | None:
    if patient is None:
        return None
    try:
        found = open_request_for(patient_id=patient.pk)
    except DatabaseError:
        logger.exception("Could not check for an open urgent request after a failure")
        return None
    return found.pk if found is not None else None


def urgent_status(request: HttpRequest, request_id: int) -> HttpResponse:
    """The patient's view of their request: received, who has it, by when to expect a call."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    patient = _own_patient(request)
    urgent = (
        UrgentContactRequest.objects.filter(pk=request_id, patient=patient)
        .select_related("program")
        .first()
    )
    if urgent is None:
        # Another patient's request (or none): a 404 like any unknown id, audited, naming
        # the other patient when the id is theirs.
        other = UrgentContactRequest.objects.filter(
            pk=request_id, organization_id=patient.organization_id
        ).first()
        audit.record_denied(
            request,
            patient=other.patient if other is not None else None,
            category=services.CATEGORY,
            action=Action.VIEW,
            purpose=Purpose.PATIENT_REQUEST,
        )
        raise Http404
    events = list(urgent.events.select_related("actor__staff_member"))
    return render(
        request,
        "crisis/urgent_status.html",
        {
            "urgent": urgent,
            "events": events,
            "expected_by": services.expected_contact_by(urgent),
            "Kind": UrgentContactEvent.Kind,
            "program_contacts": program_contacts(urgent.program),
        },
    )
