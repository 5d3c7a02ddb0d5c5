"""``{{ number|phone }}``: a stored phone number as people read it (tether/lib/phones.py)."""

from __future__ import annotations

from django import template

from tether.lib.phones import display_phone

register = template.Library()


@register.filter
def phone(value: str | None) -> str:
    return display_phone(value or "")
