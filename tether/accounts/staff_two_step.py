"""Program admins reset a colleague's two-step sign-in (lost or new phone).

Only a program admin, only for staff of their own organization, never for themselves:
anyone else gets a 404, as everywhere in the staff area. The reset removes the
person's authenticator apps and signs them out everywhere; they set up an app again
only with a one-time set-up link the admin makes here (``staff_enrolment_link``): a
password alone never enrols an app on a staff account.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts import services
from tether.accounts.forms import TwoStepResetForm
from tether.accounts.models import User
from tether.organizations.models import StaffMember
from tether.staff.access import can_register_patients, staff_required


def _admin(request: HttpRequest) -> StaffMember:
    staff: StaffMember = request.staff_member  # type: ignore[attr-defined]
    if staff.role != StaffMember.Role.PROGRAM_ADMIN:
        raise Http404
    return staff


def _context(request: HttpRequest, **extra: object) -> dict[str, object]:
    staff = request.staff_member  # type: ignore[attr-defined]
    return {"can_register_patients": can_register_patients(staff), "nav": "two_step", **extra}


@staff_required
@require_http_methods(["GET"])
def staff_list(request: HttpRequest) -> HttpResponse:
    admin = _admin(request)
    colleagues = (
        StaffMember.objects.filter(organization_id=admin.organization_id, is_active=True)
        .select_related("user")
        .annotate(
            has_app=Exists(TOTPDevice.objects.filter(user_id=OuterRef("user_id"), confirmed=True))
        )
        .order_by("user__last_name", "user__first_name", "pk")
    )
    return render(
        request,
        "accounts/staff_two_step_list.html",
        _context(request, colleagues=colleagues, me=admin),
    )


@staff_required
@require_http_methods(["GET", "POST"])
def staff_reset(request: HttpRequest, staff_id: int) -> HttpResponse:
    admin = _admin(request)
    target = get_object_or_404(
        StaffMember.objects.select_related("user"),
        pk=staff_id,
        organization_id=admin.organization_id,
    )
    actor = request.user
    if not isinstance(actor, User) or not services.two_step_reset_allowed(
        actor=actor, target=target
    ):
        raise Http404
    form = TwoStepResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.two_step_reset(
            actor=actor,
            target=target,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
            request=request,
        )
        messages.success(
            request,
            _(
                "Two-step sign-in reset for %(name)s. They have been signed out, and will set up "
                "their authenticator app again with a set-up link from you."
            )
            % {"name": target.user.get_full_name()},
        )
        return redirect("accounts:staff_two_step")
    has_app = TOTPDevice.objects.filter(user=target.user, confirmed=True).exists()
    return render(
        request,
        "accounts/staff_two_step_reset.html",
        _context(request, target=target, form=form, has_app=has_app),
    )


@staff_required
@require_POST
def staff_enrolment_link(request: HttpRequest, staff_id: int) -> HttpResponse:
    """A one-time set-up link for a colleague's authenticator app, shown once (the token
    is not stored in clear): a program admin of the same organization, never for
    themself. Hand it over in person or by the staff member's work email."""
    admin = _admin(request)
    target = get_object_or_404(
        StaffMember.objects.select_related("user"),
        pk=staff_id,
        organization_id=admin.organization_id,
    )
    actor = request.user
    if not isinstance(actor, User) or not services.two_step_reset_allowed(
        actor=actor, target=target
    ):
        raise Http404
    issued = services.enrolment_link_create(user=target.user, created_by=actor, request=request)
    url = settings.SITE_URL.rstrip("/") + reverse("accounts:mfa_enrol", args=[issued.token])
    return render(
        request,
        "accounts/staff_enrolment_link.html",
        _context(request, target=target, link=issued.link, link_url=url),
    )
