"""Who is signed in on the staff side. Patient data itself comes from the privacy gate."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse

from tether.accounts.models import User
from tether.organizations.models import StaffMember

REGISTERING_ROLES = frozenset(
    {
        StaffMember.Role.FRONT_DESK,
        StaffMember.Role.CLINICIAN,
        StaffMember.Role.CLINICAL_LEAD,
        StaffMember.Role.PROGRAM_ADMIN,
    }
)


def _refuse(request: HttpRequest) -> Http404:
    """A signed-in person who is not active staff reached the staff area: audited as a
    denied attempt (no patient: the area itself was refused), then a 404."""
    from tether.privacy import audit
    from tether.privacy.models import Purpose
    from tether.privacy.policy import Action, Category

    audit.record_denied(
        request,
        patient=None,
        category=Category.GENERAL,
        action=Action.VIEW if request.method in ("GET", "HEAD") else Action.UPDATE,
        purpose=Purpose.TREATMENT,
    )
    return Http404()


def current_staff(request: HttpRequest) -> StaffMember:
    user = request.user
    if not isinstance(user, User) or not user.is_staff_member:
        raise _refuse(request)
    try:
        staff = user.staff_member
    except StaffMember.DoesNotExist:
        raise _refuse(request) from None
    if not staff.is_active:
        raise _refuse(request)
    return staff


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in, active staff only. Anyone else gets a 404: the staff area does not exist
    for them (patients never learn staff URLs work)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        request.staff_member = current_staff(request)  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


def can_register_patients(staff: StaffMember) -> bool:
    return staff.role in REGISTERING_ROLES
