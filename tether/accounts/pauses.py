"""Sign-in pauses: a program admin or the privacy officer lifts one at once.

The way through a pause for someone who must sign in now (on-call answering an urgent
request, above all): the paused page says to call either of them. Only for people of
their own organization; everyone else gets a 404, as everywhere in the staff area.
Every lift is audited (tether/accounts/lockout.py ``lockout_lift``).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tether.accounts import lockout
from tether.accounts.models import User
from tether.organizations.models import StaffMember
from tether.staff.access import can_register_patients, staff_required


def _lifter(request: HttpRequest) -> StaffMember:
    staff: StaffMember = request.staff_member  # type: ignore[attr-defined]
    if staff.role not in lockout.LIFTERS:
        raise Http404
    return staff


@staff_required
@require_http_methods(["GET", "POST"])
def sign_in_pauses(request: HttpRequest) -> HttpResponse:
    staff = _lifter(request)
    actor: User = request.user  # type: ignore[assignment]
    if request.method == "POST":
        raw = request.POST.get("user", "")
        target = (
            User.objects.filter(pk=int(raw), organization_id=staff.organization_id).first()
            if raw.isascii() and raw.isdigit()
            else None
        )
        if target is None:
            raise Http404
        try:
            lockout.lockout_lift(actor=actor, target=target, request=request)
        except lockout.LiftRefused:
            raise Http404 from None
        messages.success(
            request,
            _("%(name)s can sign in again now.") % {"name": target.get_full_name()},
        )
        return redirect("accounts:sign_in_pauses")
    return render(
        request,
        "accounts/sign_in_pauses.html",
        {
            "can_register_patients": can_register_patients(staff),
            "nav": "sign_in_pauses",
            "paused": lockout.paused_users(organization_id=staff.organization_id),
        },
    )
