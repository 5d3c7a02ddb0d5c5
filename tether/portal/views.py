"""The patient's own area and the family member's view."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from tether.accounts.models import User
from tether.checkins import selectors as checkins_selectors
from tether.consent import selectors as consent_selectors
from tether.crisis.health import background_health, database_unreachable
from tether.crisis.resilience import DATABASE_ERRORS
from tether.crisis.selectors import note_own_episode
from tether.family import selectors as family_selectors
from tether.homework import selectors as homework_selectors
from tether.messaging import selectors as messaging_selectors
from tether.patients.models import Patient, Proxy
from tether.portal import selectors
from tether.privacy.gate import (
    access_own_record,
    access_patient,
    family_category_for,
    patients_visible_to,
    proxy_scopes_open,
)
from tether.privacy.models import Purpose
from tether.privacy.policy import Action, Category


@require_GET
def healthz_live(request: HttpRequest) -> HttpResponse:
    """Liveness, for the load balancer: this process answers. Tied to nothing else, so
    neither a database outage nor a stopped worker ever takes the portal out of
    service: its crisis pages (and their 503 fallback) must stay reachable."""
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """For monitoring: 200 ``ok`` when this process can reach the database, 503
    ``database unreachable`` when it cannot. Not for the load balancer (``healthz_live``)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DATABASE_ERRORS:
        return HttpResponse("database unreachable", content_type="text/plain", status=503)
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def healthz_background(request: HttpRequest) -> HttpResponse:
    """For monitoring: 200 while the scheduler and worker run, 503 when urgent-request
    escalation has stopped (tether/crisis/health.py). Times and codes only. With the
    database unreachable it still answers its JSON 503 (``database_unreachable``)."""
    try:
        health = background_health()
    except DATABASE_ERRORS:
        health = database_unreachable()
    return JsonResponse(health.as_dict(), status=200 if health.ok else 503)


def _signed_in_user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise Http404
    return user


def home(request: HttpRequest) -> HttpResponseRedirect:
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    user = _signed_in_user(request)
    if user.is_staff_member:
        return redirect("staff:dashboard")
    if user.is_proxy:
        return redirect("portal:family_home")
    if not user.has_seen_welcome:
        return redirect("portal:welcome")
    return redirect("portal:home")


def _own_patient(request: HttpRequest) -> Patient:
    return access_own_record(request, category=Category.GENERAL, action=Action.VIEW)


@login_required
def patient_home(request: HttpRequest) -> HttpResponse:
    # One gate check (and audit row) per category the page reads, no more: ``general``
    # for the patient, program, sessions and sharing; ``shared`` (written with the care
    # team) for the homework and messages cards; ``self_report`` in ``home_due``. The
    # episode and sessions are read once and handed to the check-in card.
    patient = _own_patient(request)
    episode = selectors.current_episode(patient=patient)
    note_own_episode(request, episode)  # the header's crisis contacts: no second read
    upcoming = list(selectors.upcoming_sessions(patient=patient, with_people=False))
    shared = selectors.may_read_own(request, patient=patient, category=Category.SHARED)
    # One more than the card shows: whether to say more is waiting, without a count.
    homework = (
        homework_selectors.open_for_patient(
            patient=patient, limit=homework_selectors.HOME_SHOWN + 1
        )
        if shared
        else []
    )
    return render(
        request,
        "portal/home.html",
        {
            "nav": "home",
            "patient": patient,
            "episode": episode,
            "upcoming": upcoming,
            "checkins_due": checkins_selectors.home_due(
                request, patient=patient, episode=episode, upcoming=upcoming
            ),
            "shared_readable": shared,
            "messaging_summary": messaging_selectors.patient_summary(patient=patient)
            if shared
            else None,
            "homework_due": homework[: homework_selectors.HOME_SHOWN],
            "homework_more": len(homework) > homework_selectors.HOME_SHOWN,
            "sharing": consent_selectors.sharing_summary(patient),
        },
    )


@login_required
def welcome(request: HttpRequest) -> HttpResponse:
    patient = _own_patient(request)
    user = _signed_in_user(request)
    if request.method == "POST":
        if not user.has_seen_welcome:
            user.has_seen_welcome = True
            user.save(update_fields=["has_seen_welcome"])
        return redirect("portal:home")
    return render(
        request,
        "portal/welcome.html",
        {"patient": patient, "episode": selectors.current_episode(patient=patient)},
    )


@login_required
def family_home(request: HttpRequest) -> HttpResponse:
    """A family member sees only what the gate allows: the scopes the patient (or, for
    an adolescent, the program with the patient's assent) granted."""
    user = _signed_in_user(request)
    if not user.is_proxy:
        raise Http404
    patient_ids = list(
        patients_visible_to(user, category=Category.GENERAL, action=Action.VIEW).values_list(
            "pk", flat=True
        )
    )
    people = []
    for patient_id in patient_ids:  # a proxy has one or two linked patients, not a caseload
        patient = access_patient(
            request,
            patient_id,
            category=Category.GENERAL,
            action=Action.VIEW,
            purpose=Purpose.FAMILY,
        )
        # One audited look (above) for the page; what it shows is decided by the gate
        # scope by scope. Family content of a substance-use (Part 2) program is labelled
        # part2 and never reaches a proxy.
        family_category = family_category_for(patient)
        scopes = proxy_scopes_open(user, patient, category=Category.GENERAL)
        family_open = family_category == Category.GENERAL
        family_scopes = (
            proxy_scopes_open(user, patient, category=family_category)
            if family_open
            else frozenset()
        )
        assignments = (
            homework_selectors.for_family(patient=patient)
            if Proxy.Scope.FAMILY_ASSIGNMENTS in family_scopes
            else []
        )
        updates = (
            family_selectors.for_family(patient=patient)
            if Proxy.Scope.FAMILY_UPDATES in family_scopes
            else []
        )
        upcoming = (
            list(selectors.upcoming_sessions(patient=patient))
            if Proxy.Scope.APPOINTMENTS in scopes
            else []
        )
        attendance = (
            selectors.recent_attendance(patient=patient) if Proxy.Scope.ATTENDANCE in scopes else []
        )
        people.append(
            {
                "patient": patient,
                "scopes": scopes,
                "can": [s for s in Proxy.Scope if s.value in scopes],
                "cannot": [s for s in Proxy.Scope if s.value not in scopes],
                "upcoming": upcoming,
                "attendance": attendance,
                "assignments": assignments,
                "updates": updates,
                "family_open": family_open,
            }
        )
    return render(request, "portal/family_home.html", {"nav": "home", "people": people})
