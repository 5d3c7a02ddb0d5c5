"""Admission, level of care and discharge (staff), and the aftercare plan (patient).

- The page: the patient's care team, the clinical lead and front desk of their program
  (the gate, ``general``/view).
- Admit: front desk, clinicians and clinical leads the gate lets create ``general``.
- Step up or down: clinicians and clinical leads the gate lets update ``general``.
- Discharge (it writes the aftercare plan, ``shared``): the care team only.
"""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from tether.accounts.models import User
from tether.organizations.models import Program, StaffMember
from tether.patients import services
from tether.patients.forms import AdmitForm, DischargeForm, LevelChangeForm
from tether.patients.models import AftercarePlan, Episode
from tether.portal.selectors import may_read_own
from tether.privacy import audit
from tether.privacy.gate import access_own_record, access_patient, decide
from tether.privacy.models import Purpose
from tether.privacy.policy import Action, Category
from tether.staff.access import can_register_patients, staff_required

_PAGE_ROLES = frozenset(
    {StaffMember.Role.CLINICIAN, StaffMember.Role.CLINICAL_LEAD, StaffMember.Role.FRONT_DESK}
)
_LEVEL_ROLES = frozenset({StaffMember.Role.CLINICIAN, StaffMember.Role.CLINICAL_LEAD})


@staff_required
def care(request: HttpRequest, patient_id: int) -> HttpResponse:
    staff: StaffMember = request.staff_member  # type: ignore[attr-defined]  # set by staff_required
    user: User = request.user  # type: ignore[assignment]  # signed in
    action = request.POST.get("action", "") if request.method == "POST" else ""
    needed = {
        "admit": (Category.GENERAL, Action.CREATE),
        "level": (Category.GENERAL, Action.UPDATE),
        "discharge": (Category.SHARED, Action.CREATE),
    }.get(action, (Category.GENERAL, Action.VIEW))
    if staff.role not in _PAGE_ROLES or (action == "level" and staff.role not in _LEVEL_ROLES):
        audit.record_denied(
            request, patient=None, category=needed[0], action=needed[1], purpose=Purpose.TREATMENT
        )
        raise Http404
    patient = access_patient(
        request, patient_id, category=needed[0], action=needed[1], purpose=Purpose.TREATMENT
    )
    episode = (
        Episode.objects.filter(patient=patient, status=Episode.Status.ACTIVE)
        .select_related("program")
        .first()
    )
    today = timezone.localdate()
    admit_form = AdmitForm(initial={"admitted_on": today})
    level_form = LevelChangeForm(initial={"changed_on": today})
    discharge_form = DischargeForm(initial={"discharged_on": today})
    problems: list[str] = []
    status = 200
    if action:
        try:
            if action == "admit":
                program = _program(request, staff)
                admit_form = AdmitForm(request.POST)
                if admit_form.is_valid():
                    services.episode_admit(
                        patient=patient,
                        program=program,
                        level_of_care=admit_form.cleaned_data["level_of_care"],
                        admitted_on=admit_form.cleaned_data["admitted_on"],
                        user=user,
                    )
                    flash.success(request, _("Admitted to %(p)s.") % {"p": program.name})
                    return redirect("patients:care", patient.pk)
            elif action == "level" and episode is not None:
                level_form = LevelChangeForm(request.POST)
                if level_form.is_valid():
                    change = services.level_of_care_change(
                        episode=episode,
                        to_level=level_form.cleaned_data["to_level"],
                        changed_on=level_form.cleaned_data["changed_on"],
                        reason=level_form.cleaned_data["reason"],
                        staff=staff,
                        user=user,
                    )
                    flash.success(
                        request,
                        _("Level of care changed to %(level)s.")
                        % {"level": change.get_to_level_display()},
                    )
                    return redirect("patients:care", patient.pk)
            elif action == "discharge" and episode is not None:
                discharge_form = DischargeForm(request.POST)
                if discharge_form.is_valid():
                    data = discharge_form.cleaned_data
                    services.episode_discharge(
                        episode=episode,
                        discharged_on=data["discharged_on"],
                        reason=data["reason"],
                        next_appointments=data["next_appointments"],
                        who_to_call=data["who_to_call"],
                        keeps_safety_plan=data["keeps_safety_plan"],
                        offer_final_measures=data["offer_final_measures"],
                        staff=staff,
                        user=user,
                    )
                    flash.success(request, _("Discharged. The aftercare plan is with the patient."))
                    return redirect("patients:care", patient.pk)
            else:
                raise Http404
        except services.EpisodeError as error:
            problems = error.problems
        status = 400
    may_discharge = (
        episode is not None
        and decide(user, patient, category=Category.SHARED, action=Action.CREATE).allowed
    )
    episodes = list(
        Episode.objects.filter(patient=patient)
        .select_related("program")
        .prefetch_related("level_changes")
        .order_by("-admitted_on", "-pk")
    )
    return render(
        request,
        "patients/care.html",
        {
            "nav": "dashboard",
            "can_register_patients": can_register_patients(staff),
            "patient": patient,
            "episode": episode,
            "episodes": episodes,
            "programs": list(staff.programs.filter(is_active=True).order_by("name")),
            "may_admit": episode is None,
            "may_change_level": episode is not None and staff.role in _LEVEL_ROLES,
            "may_discharge": may_discharge,
            "admit_form": admit_form,
            "level_form": level_form,
            "discharge_form": discharge_form,
            "problems": problems,
        },
        status=status,
    )


def _program(request: HttpRequest, staff: StaffMember) -> Program:
    program = staff.programs.filter(is_active=True, pk=request.POST.get("program") or 0).first()
    if program is None:
        raise services.EpisodeError([_("Choose one of your programs.")])
    return program


@login_required
def aftercare(request: HttpRequest) -> HttpResponse:
    """The patient's aftercare plan after discharge, until their access ends, and the
    final measures offered at discharge."""
    from tether.checkins.models import Response

    patient = access_own_record(request, category=Category.GENERAL, action=Action.VIEW)
    plan = (
        AftercarePlan.objects.filter(
            episode__patient=patient, episode__access_until__gte=timezone.localdate()
        )
        .select_related("episode__program")
        .order_by("-written_at")
        .first()
    )
    if plan is not None and not may_read_own(
        request, patient=patient, category=Category(plan.record_category)
    ):
        plan = None  # a Part 2 plan on a shared device: the device settings decide
    final = (
        list(
            Response.objects.filter(
                episode=plan.episode,
                window=f"discharge:{plan.episode_id}",
                status=Response.Status.DRAFT,
                expires_at__gt=timezone.now(),
            ).select_related("instrument")
        )
        if plan is not None
        else []
    )
    return render(request, "patients/aftercare.html", {"nav": "home", "plan": plan, "final": final})
