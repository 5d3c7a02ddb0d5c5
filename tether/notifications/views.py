"""A staff member's own notifications."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tether.accounts.models import User
from tether.notifications import services
from tether.privacy.services import stated_reason
from tether.staff.access import can_register_patients, staff_required

LIMIT = 100


@staff_required
def notification_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    notifications = list(services.notifications_for(user=user)[:LIMIT])
    items = [
        {
            "notification": n,
            "reason": stated_reason(n.break_glass_grant) if n.break_glass_grant else None,
        }
        for n in notifications
    ]
    return render(
        request,
        "notifications/list.html",
        {
            "nav": "notifications",
            "can_register_patients": can_register_patients(request.staff_member),  # type: ignore[attr-defined]
            "items": items,
            "unread": sum(1 for n in notifications if n.is_unread),
        },
    )


@staff_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    services.notifications_mark_read(user=request.user)  # type: ignore[arg-type]
    return redirect("notifications:list")
