"""The safety plan: the patient's own pages and the care team's pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tether.accounts.models import User
from tether.patients.models import Patient
from tether.privacy import audit
from tether.privacy.gate import (
    access_own_record,
    access_patient,
    decide,
    peek_patient,
    record_category_for,
)
from tether.privacy.models import Purpose
from tether.privacy.policy import Action, Category
from tether.safetyplan import selectors, services
from tether.safetyplan.forms import SafetyPlanForm
from tether.staff.access import staff_required


def _own_patient(request: HttpRequest, *, action: Action) -> Patient:
    return access_own_record(request, category=Category.SHARED, action=action)


def _plan_context(patient: Patient) -> dict[str, Any]:
    return {
        "patient": patient,
        "plan": selectors.latest_version(patient=patient),
        "contacts": selectors.always_on_contacts(patient=patient),
    }


def _coping_skills(patient: Patient) -> list[str]:
    try:
        from tether.homework.selectors import coping_skills_for
    except ImportError:  # pragma: no cover - homework app not installed
        return []
    return coping_skills_for(patient=patient)


@login_required
@require_GET
def view(request: HttpRequest) -> HttpResponse:
    patient = _own_patient(request, action=Action.VIEW)
    return render(
        request,
        "safetyplan/view.html",
        {**_plan_context(patient), "coping_skills": _coping_skills(patient), "nav": "safety_plan"},
    )


@login_required
@require_GET
def offline_copy(request: HttpRequest) -> HttpResponse:
    """The page the service worker keeps on a phone after the patient opts in.

    It holds only the plan, the crisis numbers and the coping skills: no forms,
    no other health data. It is still ``no-store`` for the HTTP cache; the
    service worker stores its own copy in the Cache API.
    """
    patient = _own_patient(request, action=Action.VIEW)
    return render(
        request,
        "safetyplan/offline_copy.html",
        {**_plan_context(patient), "coping_skills": _coping_skills(patient)},
    )


def _edit(
    request: HttpRequest,
    *,
    patient: Patient,
    purpose: Purpose,
    base_template: str,
    done_url: str,
) -> HttpResponse:
    latest = selectors.latest_version(patient=patient)
    conflict = None
    if request.method == "POST":
        form = SafetyPlanForm(request.POST)
        if form.is_valid():
            content = {k: v for k, v in form.cleaned_data.items() if k != "based_on"}
            try:
                result = services.safety_plan_save(
                    patient=patient,
                    author=request.user,  # type: ignore[arg-type]
                    content=content,
                    based_on=form.cleaned_data["based_on"],
                    purpose=purpose,
                )
            except services.StaleVersionError as stale:
                conflict = stale.latest
                # Keep what they typed; the next save is based on the newer version.
                data = request.POST.copy()
                data["based_on"] = str(conflict.number)
                form = SafetyPlanForm(data)
                form.is_valid()
            else:
                if result.changed:
                    messages.success(request, _("Your changes to the safety plan are saved."))
                else:
                    messages.info(request, _("Nothing changed, so nothing new was saved."))
                return redirect(done_url)
    else:
        initial: dict[str, Any] = {"based_on": latest.number if latest else 0}
        if latest is not None:
            initial.update(latest.content())
        form = SafetyPlanForm(initial=initial)
    rows = []
    for bound in form.step_fields():
        rows.append(
            {
                "field": bound,
                "theirs": getattr(conflict, bound.name) if conflict is not None else None,
            }
        )
    return render(
        request,
        "safetyplan/edit.html",
        {
            "base_template": base_template,
            "patient": patient,
            "form": form,
            "rows": rows,
            "plan": latest,
            "conflict": conflict,
            "cancel_url": done_url,
            "nav": "safety_plan",
        },
        status=409 if conflict is not None else 200,
    )


@login_required
def edit(request: HttpRequest) -> HttpResponse:
    action = Action.UPDATE if request.method == "POST" else Action.VIEW
    patient = _own_patient(request, action=action)
    return _edit(
        request,
        patient=patient,
        purpose=Purpose.PATIENT_REQUEST,
        base_template="patient/base_patient.html",
        done_url=reverse("safety_plan:view"),
    )


def _plan_label(patient: Patient | None) -> Category:
    """The label of the patient's safety plan: its latest version's (set at capture), or
    the one a first version would get (``part2`` in a Part 2 program)."""
    if patient is None:
        return Category.SHARED
    plan = selectors.latest_version(patient=patient)
    if plan is not None:
        return Category(plan.record_category)
    return record_category_for(patient, Category.SHARED)


@staff_required
@require_GET
def staff_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    subject = peek_patient(user, patient_id)
    label = _plan_label(subject)
    if (
        subject is not None
        and label == Category.PART2
        and decide(user, subject, category=Category.SHARED, action=Action.VIEW).allowed
        and not decide(user, subject, category=Category.PART2, action=Action.VIEW).allowed
    ):
        # A program lead or on-call clinician, not on the care team, of a Part 2 patient:
        # the plan is a Part 2 record. Say so and offer emergency access (42 CFR 2.51),
        # rather than a false "no such page"; the refusal is audited.
        audit.record_denied(
            request,
            patient=subject,
            category=Category.PART2,
            action=Action.VIEW,
            purpose=Purpose.TREATMENT,
        )
        return render(request, "safetyplan/staff_hidden.html", {"patient": subject})
    patient = access_patient(
        request, patient_id, category=label, action=Action.VIEW, purpose=Purpose.TREATMENT
    )
    return render(
        request,
        "safetyplan/staff_view.html",
        {
            **_plan_context(patient),
            "versions": selectors.versions(patient=patient),
            "can_edit": decide(user, patient, category=label, action=Action.UPDATE).allowed,
        },
    )


@staff_required
def staff_edit(request: HttpRequest, patient_id: int) -> HttpResponse:
    # Asked under the plan's own label (Part 2 in a Part 2 program), so only those who may
    # change that record do.
    subject = peek_patient(request.user, patient_id)  # type: ignore[arg-type]
    patient = access_patient(
        request,
        patient_id,
        category=_plan_label(subject),
        action=Action.UPDATE,
        purpose=Purpose.TREATMENT,
    )
    return _edit(
        request,
        patient=patient,
        purpose=Purpose.TREATMENT,
        base_template="staff/base_staff.html",
        done_url=reverse("safety_plan:staff_view", args=[patient.pk]),
    )
