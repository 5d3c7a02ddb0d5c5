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


@register.filter
def wording(text: str, shown: str) -> str:
    """``{{ item.text|wording:shown_in }}``: the instrument's own words in the language
    they are shown in (tether/checkins/languages.py; validated wording never changes)."""
    from tether.checkins.languages import wording as _wording

    return _wording(text, shown=shown)
