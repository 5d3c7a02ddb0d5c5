"""``{% rows "staff/caseload_rows.html" rows=rows record_word=… %}``: a long list's rows,
rendered by the Jinja2 engine (tether/lib/jinja.py says why and what such a template
may hold)."""

from __future__ import annotations

from typing import Any

from django import template
from django.template import engines
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def rows(template_name: str, **context: Any) -> SafeString:
    # The Jinja2 engine autoescapes what it is given: its output is markup.
    return mark_safe(engines["jinja2"].get_template(template_name).render(context))  # noqa: S308
