"""A program admin's staff pages: the list with the invitation form, and one colleague
(role, programs, invitation again, deactivation and the caseload to hand over).

Program admins of the organization only; anyone else gets a 404 (audited as denied).
Services in ``tether.organizations.staffing``; patient names on the handover list come
through the gate (``patients_visible_to``) and each one shown is audited.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages as flash
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from tether.accounts.models import User
from tether.organizations import staffing
from tether.organizations.models import Program, StaffMember
from tether.patients.models import CareTeamMember, Episode
from tether.privacy import audit
from tether.privacy.gate import patients_visible_to
from tether.privacy.list_audit import record_list
from tether.privacy.models import Purpose
from tether.privacy.policy import Action, Category
from tether.scheduling.models import Appointment, GroupSeries
from tether.staff.access import can_register_patients, staff_required


class _StaffForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=StaffMember.Role.choices)
    title = forms.CharField(
        label=gettext_lazy("Credentials / title (optional)"), max_length=100, required=False
    )
    programs = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Programs they work in"),
        queryset=Program.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args: Any, admin: StaffMember, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["programs"].queryset = admin.programs.filter(is_active=True).order_by("name")  # type: ignore[attr-defined]  # a ModelMultipleChoiceField


class InviteForm(_StaffForm):
    first_name = forms.CharField(label=gettext_lazy("First name"), max_length=150)
    last_name = forms.CharField(label=gettext_lazy("Last name"), max_length=150)
    email = forms.EmailField(label=gettext_lazy("Work e-mail"), max_length=254)
    field_order = ["first_name", "last_name", "email", "role", "title", "programs"]


class RoleForm(_StaffForm):
    pass


def _admin(request: HttpRequest) -> StaffMember:
    staff: StaffMember = request.staff_member  # type: ignore[attr-defined]  # set by staff_required
    if staff.role != StaffMember.Role.PROGRAM_ADMIN:
        audit.record_denied(
            request,
            patient=None,
            category=Category.GENERAL,
            action=Action.VIEW if request.method in ("GET", "HEAD") else Action.UPDATE,
            purpose=Purpose.OPERATIONS,
        )
        raise Http404
    return staff


def _context(admin: StaffMember, **extra: object) -> dict[str, object]:
    return {"nav": "staff", "can_register_patients": can_register_patients(admin), **extra}


@staff_required
@require_http_methods(["GET", "POST"])
def staff_list(request: HttpRequest) -> HttpResponse:
    admin = _admin(request)
    actor: User = request.user  # type: ignore[assignment]  # signed in
    form = InviteForm(request.POST or None, admin=admin)
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                invited = staffing.staff_invite(
                    actor=actor,
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    email=data["email"],
                    role=data["role"],
                    title=data["title"],
                    programs=data["programs"],
                    request=request,
                )
            except staffing.StaffingError as error:
                problems = error.problems
            else:
                flash.success(
                    request,
                    _(
                        "Invitation sent to %(email)s. They choose a password, then set up "
                        "their authenticator app, with the two links in it."
                    )
                    % {"email": invited.user.email},
                )
                return redirect("program:staff_detail", invited.pk)
    colleagues = list(
        StaffMember.objects.filter(organization_id=admin.organization_id)
        .select_related("user")
        .prefetch_related("programs")
        .order_by("-is_active", "user__last_name", "user__first_name", "pk")
    )
    return render(
        request,
        "organizations/staff_list.html",
        _context(admin, colleagues=colleagues, me=admin, form=form, problems=problems),
        status=status,
    )


def _handover(request: HttpRequest, target: StaffMember) -> dict[str, object]:
    """What a colleague leaves to hand over: care-team places of current episodes (names
    through the gate), sessions and groups still to come, programs whose escalation
    contact they are."""
    user: User = request.user  # type: ignore[assignment]  # signed in
    now = timezone.now()
    visible = patients_visible_to(user, category=Category.GENERAL, action=Action.VIEW)
    places = list(
        CareTeamMember.objects.filter(
            staff_member=target,
            ended_on__isnull=True,
            episode__status=Episode.Status.ACTIVE,
            episode__patient__in=visible,
        )
        .select_related("episode__patient", "episode__program")
        .order_by("episode__patient__last_name", "episode__patient__first_name", "pk")
    )
    hidden = CareTeamMember.objects.filter(
        staff_member=target, ended_on__isnull=True, episode__status=Episode.Status.ACTIVE
    ).count() - len(places)
    record_list(
        request,
        patients=[place.episode.patient for place in places],
        category=Category.GENERAL,
        purpose=Purpose.OPERATIONS,
        obj_type="patients.careteammember",
    )
    sessions = Appointment.objects.filter(
        clinician=target, starts_at__gt=now, is_cancelled=False
    ).filter(Q(series__isnull=True) | ~Q(series__facilitator=target))
    groups = list(
        GroupSeries.objects.filter(
            facilitator=target, occurrences__starts_at__gt=now, occurrences__is_cancelled=False
        )
        .distinct()
        .order_by("title", "pk")
    )
    return {
        "places": places,
        "hidden_places": hidden,
        "session_count": sessions.count(),
        "groups": groups,
        "escalation_programs": list(
            Program.objects.filter(escalation_contact=target).order_by("name")
        ),
    }


@staff_required
@require_http_methods(["GET", "POST"])
def staff_detail(request: HttpRequest, staff_id: int) -> HttpResponse:
    admin = _admin(request)
    actor: User = request.user  # type: ignore[assignment]  # signed in
    target = (
        StaffMember.objects.filter(pk=staff_id, organization_id=admin.organization_id)
        .select_related("user")
        .first()
    )
    if target is None:
        raise Http404
    is_me = target.pk == admin.pk
    form = RoleForm(
        admin=admin,
        initial={
            "role": target.role,
            "title": target.title,
            "programs": list(target.programs.values_list("pk", flat=True)),
        },
    )
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        status = 400
        try:
            if action == "role":
                form = RoleForm(request.POST, admin=admin)
                if form.is_valid():
                    staffing.staff_role_set(
                        actor=actor,
                        target=target,
                        role=form.cleaned_data["role"],
                        title=form.cleaned_data["title"],
                        programs=form.cleaned_data["programs"],
                        request=request,
                    )
                    flash.success(request, _("Saved. Their access follows the new role at once."))
                    return redirect("program:staff_detail", target.pk)
            elif action == "invite_again":
                staffing.staff_invite_again(actor=actor, target=target, request=request)
                flash.success(
                    request,
                    _("A new invitation was sent to %(email)s; the old links no longer work.")
                    % {"email": target.user.email},
                )
                return redirect("program:staff_detail", target.pk)
            elif action == "deactivate":
                if request.POST.get("confirm") != "on":
                    problems = [_("Tick the box to confirm they no longer work here.")]
                else:
                    staffing.staff_deactivate(actor=actor, target=target, request=request)
                    flash.success(
                        request,
                        _(
                            "%(name)s can no longer sign in and was signed out everywhere. "
                            "Hand over what is listed below."
                        )
                        % {"name": target.user.get_full_name()},
                    )
                    return redirect("program:staff_detail", target.pk)
            else:
                raise Http404
        except staffing.StaffingRefused:
            raise Http404 from None
        except staffing.StaffingError as error:
            problems = error.problems
    return render(
        request,
        "organizations/staff_detail.html",
        _context(
            admin,
            target=target,
            is_me=is_me,
            form=form,
            problems=problems,
            invited=not target.user.has_usable_password(),
            **_handover(request, target),
        ),
        status=status,
    )
