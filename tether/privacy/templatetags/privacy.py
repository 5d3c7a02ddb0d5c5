"""Template helpers for links to privacy pages."""

from __future__ import annotations

from django import template

from tether.privacy.selectors import may_see_audit_reports as _may_see_audit_reports

register = template.Library()


@register.filter
def may_see_audit_reports(user: object) -> bool:
    """``{% if request.user|may_see_audit_reports %}``: show the audit report link."""
    return _may_see_audit_reports(user)
