from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from tether.accounts.models import User
from tether.organizations.models import StaffMember
from tether.staff.duty import Duty, duty_for


def duty(request: HttpRequest) -> dict[str, Any]:
    """``duty``: what waits for the signed-in staff member (``tether.staff.duty``).

    Lazy: its queries run only when a staff page shows the banner or the navigation
    counts, and at most once per request. Patients, family members and signed-out
    visitors get nothing and cost no query.
    """
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated or not user.is_staff_member:
        return {}

    def compute() -> Duty:
        # Views behind ``staff_required`` have already loaded the staff row.
        staff = getattr(request, "staff_member", None)
        if staff is None:
            try:
                staff = user.staff_member
            except StaffMember.DoesNotExist:
                return Duty()
        return duty_for(user=user, staff=staff)

    return {"duty": SimpleLazyObject(compute)}
