"""``{% background_banner %}``: on staff pages, tell on-call clinicians, clinical leads
and program admins when background work (urgent-request escalation) has stopped."""

from __future__ import annotations

from typing import Any

from django import template

from tether.crisis.health import BANNER_ROLES, background_health

register = template.Library()


@register.inclusion_tag("crisis/includes/background_banner.html", takes_context=True)
def background_banner(context: Any) -> dict[str, object]:
    request = context.get("request")
    user = getattr(request, "user", None)
    staff = getattr(user, "staff_member", None) if getattr(user, "is_staff_member", False) else None
    if staff is None or staff.role not in BANNER_ROLES:
        return {"health": None}
    health = background_health()
    return {"health": None if health.ok else health, "request": request}
