"""Phone numbers, parsed and stored one way (``phonenumbers``, Google's libphonenumber).

A number typed by a person is parsed in the deployment's region (``PHONE_REGION``,
default ``US``) and stored in E.164 (``+14135550100``), so a ``tel:`` link always dials
it and a 20-digit typo is refused, not stored. Where a field allows it (a program's
crisis lines), a national short code valid in that region (988, 911, 741741) is kept
as its digits. Shown to people in the national format when it is a number of the region
(``(413) 555-0100``), else in the international format.
"""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from phonenumbers import PhoneNumberFormat, shortnumberinfo


class InvalidPhoneNumber(ValueError):
    pass


def _region() -> str:
    return str(getattr(settings, "TETHER_PHONE_REGION", "US"))


def parse_phone(value: str, *, allow_short_codes: bool = False) -> str:
    """E.164 (or a short code's digits, where allowed); ``InvalidPhoneNumber`` else."""
    text = (value or "").strip()
    if not text:
        raise InvalidPhoneNumber("empty")
    try:
        number = phonenumbers.parse(text, _region())
    except phonenumbers.NumberParseException as error:
        raise InvalidPhoneNumber(str(error)) from None
    if number.extension:
        raise InvalidPhoneNumber("extension")  # a tel: link cannot dial one reliably
    if phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, PhoneNumberFormat.E164)
    digits = "".join(ch for ch in text if ch.isascii() and ch.isdigit())
    if (
        allow_short_codes
        and not text.startswith("+")
        and digits == text.replace(" ", "")
        and shortnumberinfo.is_valid_short_number_for_region(number, _region())
    ):
        return digits
    raise InvalidPhoneNumber("invalid")


def display_phone(value: str) -> str:
    """How a stored number is shown; anything that does not parse is shown as stored."""
    if not value or not value.startswith("+"):
        return value
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    if phonenumbers.region_code_for_number(number) == _region():
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
