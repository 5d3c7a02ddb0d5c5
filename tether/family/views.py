"""Family content: progress updates the care team writes for families, and what a family
member reads of family-therapy assignments. Scopes are checked by the gate
(``access_as_proxy``), never here."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from tether.family import selectors, services
from tether.family.forms import FamilyUpdateForm
from tether.homework import selectors as homework_selectors
from tether.patients.models import Patient, Proxy
from tether.privacy import audit
from tether.privacy.gate import (
    access_as_proxy,
    access_own_record,
    access_patient,
    decide,
    family_category_for,
)
from tether.privacy.models import Purpose
from tether.privacy.policy import Action, Category
from tether.staff.access import staff_required

_ERRORS = {
    "empty": gettext_lazy("Write the update before sending."),
    "too_long": gettext_lazy(
        "This is too long to send. Please shorten it; your text is still here."
    ),
    "part2": gettext_lazy(
        "This patient's program treats substance use: family members cannot be sent "
        "anything from it without the patient's written consent. Nothing was sent."
    ),
}


# --- Staff ------------------------------------------------------------------------------


@staff_required
def staff_updates(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Write a short progress update for the patient's family; see what was sent."""
    writing = request.method == "POST"
    patient = access_patient(
        request,
        patient_id,
        category=Category.SHARED,
        action=Action.CREATE if writing else Action.VIEW,
        purpose=Purpose.TREATMENT,
    )
    form = FamilyUpdateForm(request.POST if writing else None)
    status = 200
    if writing:
        if form.is_valid():
            try:
                services.family_update_send(
                    patient=patient,
                    author=request.user,  # type: ignore[arg-type]
                    body=form.cleaned_data["body"],
                )
            except services.FamilyUpdateError as error:
                form.add_error("body", str(_ERRORS.get(str(error), _ERRORS["empty"])))
            else:
                messages.success(request, _("Update sent to the family."))
                return redirect("family:staff_updates", patient.pk)
        status = 400
    return render(
        request,
        "family/staff_updates.html",
        {
            "patient": patient,
            "form": form,
            "updates": selectors.sent_for(patient=patient),
            "part2": family_category_for(patient) == Category.PART2,
            "readers": Proxy.objects.filter(
                patient=patient, is_active=True, scope_family_updates=True
            ).count(),
            "may_write": decide(
                request.user,  # type: ignore[arg-type]
                patient,
                category=Category.SHARED,
                action=Action.CREATE,
            ).allowed,
        },
        status=status,
    )


# --- The patient ------------------------------------------------------------------------


@login_required
@require_GET
def patient_updates(request: HttpRequest) -> HttpResponse:
    """What the care team sent to the patient's family."""
    patient = access_own_record(request, category=Category.GENERAL, action=Action.VIEW)
    return render(
        request,
        "family/patient_updates.html",
        {
            "nav": "home",
            "patient": patient,
            "updates": selectors.sent_for(patient=patient),
            "readers": Proxy.objects.filter(
                patient=patient, is_active=True, scope_family_updates=True
            ).count(),
        },
    )


# --- A family member --------------------------------------------------------------------


@login_required
@require_GET
def family_assignment(request: HttpRequest, patient_id: int, assignment_id: int) -> HttpResponse:
    """A family-therapy assignment, read-only: what to do together, never the answers."""
    assignment = homework_selectors.family_assignment(
        patient_id=patient_id, assignment_id=assignment_id
    )
    category = Category(assignment.record_category) if assignment else Category.GENERAL
    patient: Patient = access_as_proxy(
        request, patient_id, scope=Proxy.Scope.FAMILY_ASSIGNMENTS, category=category
    )
    if assignment is None:
        audit.record_denied(
            request,
            patient=patient,
            category=Category.GENERAL,
            action=Action.VIEW,
            purpose=Purpose.FAMILY,
        )
        raise Http404
    return render(
        request,
        "family/assignment.html",
        {
            "nav": "home",
            "patient": patient,
            "assignment": assignment,
            "definition": assignment.parsed(),
            "steps": assignment.parsed().expanded_steps(assignment.starts_on),
        },
    )
