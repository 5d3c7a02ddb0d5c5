from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.simple_tag
def safety_plan_url() -> str:
    """The patient's safety plan page, or "" while that feature is not installed."""
    try:
        return reverse("safety_plan:view")
    except NoReverseMatch:
        return ""
