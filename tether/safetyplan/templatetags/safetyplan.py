"""``{{ text|tel_links }}``: a safety plan step as HTML, every phone number in it a
tap-to-call link ("My sister Jen 555-0142" → ``<a href="tel:5550142">``), line breaks kept.

Numbers are found with ``phonenumbers`` (US region, POSSIBLE leniency, so a local
seven-digit number still counts). Everything else is escaped.
"""

from __future__ import annotations

import phonenumbers
from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

REGION = "US"


def _dial_string(match: phonenumbers.PhoneNumberMatch) -> str:
    number = match.number
    if phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    # A local number (no area code): dial the digits as written.
    return "".join(ch for ch in match.raw_string if ch.isdigit() or ch == "+")


@register.filter
def tel_links(text: str | None) -> SafeString:
    text = text or ""
    parts: list[str] = []
    cursor = 0
    matcher = phonenumbers.PhoneNumberMatcher(text, REGION, leniency=phonenumbers.Leniency.POSSIBLE)
    for match in matcher:
        parts.append(escape(text[cursor : match.start]))
        parts.append(
            f'<a class="tel-link" href="tel:{escape(_dial_string(match))}">'
            f"{escape(match.raw_string)}</a>"
        )
        cursor = match.end
    parts.append(escape(text[cursor:]))
    html = "".join(parts).replace("\r\n", "\n").replace("\n", "<br>")
    return mark_safe(html)  # noqa: S308  # every piece of the patient's text is escaped above
