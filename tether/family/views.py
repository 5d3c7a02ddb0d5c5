"""Family content: progress updates the care team writes for families, and family-therapy
assignments: what a family member reads of them and their own part. Scopes are checked by the gate
(``access_as_proxy``), never here."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from tether.consent.services import ADULT_AGE
from tether.family import invitations, selectors, services
from tether.family.forms import FamilyInviteForm, FamilyUpdateForm
from tether.homework import selectors as homework_selectors
from tether.homework.forms import StepForm
from tether.homework.models import Assignment
from tether.lib.qr import qr_svg
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
    "part2_answers": gettext_lazy(
        "This patient's program treats substance use: nothing from it can be shared with "
        "family members without the patient's written consent, so your part cannot be "
        "saved. What you wrote is still here."
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
            "readers": selectors.update_readers(patient=patient),
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
            "readers": selectors.update_readers(patient=patient),
        },
    )


# --- A family member --------------------------------------------------------------------


def _family_assignment_for(
    request: HttpRequest, patient_id: int, assignment_id: int, *, action: Action
) -> tuple[Patient, Assignment]:
    """The family assignment a family member reaches with the "family-therapy assignments"
    scope, or ``Http404`` and a denied event (no scope, someone else's, not for the family)."""
    assignment = homework_selectors.family_assignment(
        patient_id=patient_id, assignment_id=assignment_id
    )
    category = Category(assignment.record_category) if assignment else Category.GENERAL
    patient: Patient = access_as_proxy(
        request, patient_id, scope=Proxy.Scope.FAMILY_ASSIGNMENTS, action=action, category=category
    )
    if assignment is None:
        audit.record_denied(
            request,
            patient=patient,
            category=Category.GENERAL,
            action=action,
            purpose=Purpose.FAMILY,
        )
        raise Http404
    return patient, assignment


@login_required
@require_GET
def family_assignment(request: HttpRequest, patient_id: int, assignment_id: int) -> HttpResponse:
    """A family-therapy assignment: what to do together, and the family member's own
    part step by step. Never the patient's answers."""
    patient, assignment = _family_assignment_for(
        request, patient_id, assignment_id, action=Action.VIEW
    )
    own = selectors.own_answers(assignment=assignment, author=request.user)  # type: ignore[arg-type]
    return render(
        request,
        "family/assignment.html",
        {
            "nav": "home",
            "patient": patient,
            "assignment": assignment,
            "definition": assignment.parsed(),
            "steps": assignment.parsed().expanded_steps(assignment.starts_on),
            "parts": [
                {**part, "answered": any(row["value"] for row in part["rows"])}
                for part in homework_selectors.answered_steps(assignment=assignment, answers=own)
            ],
            "may_write": family_category_for(patient) == Category.GENERAL,
        },
    )


@login_required
def family_assignment_step(
    request: HttpRequest, patient_id: int, assignment_id: int, step: int
) -> HttpResponse:
    """The family member writes their own part of one step (kept apart from the patient's)."""
    writing = request.method == "POST"
    patient, assignment = _family_assignment_for(
        request, patient_id, assignment_id, action=Action.CREATE if writing else Action.VIEW
    )
    steps = assignment.parsed().expanded_steps(assignment.starts_on)
    if not 1 <= step <= len(steps):
        raise Http404
    current = steps[step - 1]
    status = 200
    if writing:
        form = StepForm(request.POST, step=current)
        if form.is_valid():
            try:
                services.family_answers_save(
                    assignment=assignment,
                    author=request.user,  # type: ignore[arg-type]
                    values=form.answers(step),
                )
            except services.FamilyAnswersError:
                form.add_error(None, str(_ERRORS["part2_answers"]))
            else:
                messages.success(request, _("Saved. The care team can read your part."))
                return redirect("family:assignment", patient.pk, assignment.pk)
        status = 400
    else:
        saved = selectors.own_answers(assignment=assignment, author=request.user)  # type: ignore[arg-type]
        initial = {f.key: saved.get(f"{step}.{f.key}") for f in current.fields}
        form = StepForm(initial={k: v for k, v in initial.items() if v is not None}, step=current)
    return render(
        request,
        "family/assignment_step.html",
        {
            "nav": "home",
            "patient": patient,
            "assignment": assignment,
            "form": form,
            "step": current,
            "number": step,
            "count": len(steps),
        },
        status=status,
    )


# --- Family members: invite and remove ------------------------------------------------


@staff_required
def staff_members(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The care team invites a family member (link, QR code, e-mail) and removes one."""
    patient = access_patient(
        request,
        patient_id,
        category=Category.MENTAL_HEALTH,
        action=Action.UPDATE,  # the care team only, as for the family scopes page
        purpose=Purpose.TREATMENT,
    )
    user = request.user
    form = FamilyInviteForm()
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "end":
            proxy = Proxy.objects.filter(
                patient=patient, pk=request.POST.get("proxy") or 0, is_active=True
            ).first()
            if proxy is None:
                raise Http404
            invitations.family_access_end(proxy=proxy, ended_by=user)  # type: ignore[arg-type]
            messages.success(request, _("Their access ended now."))
            return redirect("family:staff_members", patient.pk)
        if action != "invite":
            raise Http404
        form = FamilyInviteForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                invited = invitations.family_invite(
                    patient=patient,
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    email=data["email"],
                    relationship=data["relationship"],
                    is_legal_guardian=data["is_legal_guardian"],
                    scopes=set(data["scopes"]),
                    patient_agreed=data["patient_agreed"],
                    invited_by=user,  # type: ignore[arg-type]
                    send_email=data["send_email"],
                )
            except invitations.FamilyError as error:
                problems = error.problems
            else:
                url = settings.SITE_URL.rstrip("/") + reverse(
                    "accounts:invite", args=[invited.issued.token]
                )
                return render(
                    request,
                    "family/invite_issued.html",
                    {
                        "patient": patient,
                        "proxy": invited.proxy,
                        "invite": invited.issued.invite,
                        "invite_url": url,
                        "qr_svg": qr_svg(url),
                        "emailed": data["send_email"],
                    },
                )
        status = 400
    members = list(
        Proxy.objects.filter(patient=patient, is_active=True)
        .select_related("user")
        .order_by("user__last_name", "pk")
    )
    return render(
        request,
        "family/staff_members.html",
        {"patient": patient, "members": members, "form": form, "problems": problems},
        status=status,
    )


@login_required
@require_POST
def patient_end(request: HttpRequest) -> HttpResponse:
    """An adult patient ends a family member's access they granted."""
    # The patient's own directive about their record: the gate is asked for "update".
    patient = access_own_record(request, category=Category.GENERAL, action=Action.UPDATE)
    proxy = Proxy.objects.filter(
        patient=patient, pk=request.POST.get("proxy") or 0, is_active=True
    ).first()
    if proxy is None or patient.age_on(timezone.localdate()) < ADULT_AGE:
        raise Http404
    invitations.family_access_end(proxy=proxy, ended_by=request.user)  # type: ignore[arg-type]
    messages.success(
        request,
        _("%(name)s can no longer see anything of your account.")
        % {"name": proxy.user.get_full_name()},
    )
    return redirect("consent:patient_family")
