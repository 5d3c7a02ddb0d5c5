"""Form fields every form uses for what a person types or ticks.

- ``FreeTextField``: free text, with line breaks counted as one character and control
  characters removed *before* the length is checked (``tether.lib.text``).
- ``CheckboxField``: a tick box that is true only for the box's own value; anything
  else a browser would never send (``-1``, ``yes``, ``false``) is refused, not read as
  agreement.
- ``PhoneField``: a phone number, parsed with ``phonenumbers`` and stored in E.164
  (``tether.lib.phones``); short codes such as 988 only where the field allows them.
- ``PostedFieldsMixin``: a form whose fields must all be in the POST. A field that is
  missing (a broken page, a script, an old tab) is refused with a message and nothing is
  saved; a field that is present but empty is the person's choice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tether.lib.phones import InvalidPhoneNumber, parse_phone
from tether.lib.text import clean_free_text

CHECKED = "on"  # what a browser sends for a ticked box that has no value attribute


class FreeTextField(forms.CharField):
    """Free text typed by a person: CRLF counted as one line break, control characters
    (NUL and the like, but not tab or newline) removed, then the usual CharField checks
    (``max_length`` counts the cleaned text). ``multiline`` gives a textarea."""

    def __init__(self, *, multiline: bool = False, rows: int = 4, **kwargs: Any) -> None:
        self.multiline = multiline
        if multiline:
            kwargs.setdefault("widget", forms.Textarea(attrs={"rows": rows}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str | None:
        if value not in self.empty_values:
            value = clean_free_text(value, multiline=self.multiline)
        return super().to_python(value)


class StrictCheckboxInput(forms.CheckboxInput):
    """A check box that always renders its value and reads back the raw string."""

    def __init__(self, attrs: dict[str, Any] | None = None, *, checked_value: str = CHECKED):
        super().__init__(attrs, check_test=lambda v: v is True or v == checked_value)
        self.checked_value = checked_value

    def format_value(self, value: Any) -> str:
        return self.checked_value

    def value_from_datadict(self, data: Mapping[str, Any], files: Any, name: str) -> Any:
        return data.get(name)  # None when the box was not ticked


class CheckboxField(forms.BooleanField):
    """True only when the box's own value was sent; absent is False; anything else is
    an error (``agree=-1`` is not agreement)."""

    default_error_messages = {
        "invalid": _("That answer was not understood. Please tick the box or leave it empty."),
    }

    def __init__(self, *, checked_value: str = CHECKED, **kwargs: Any) -> None:
        self.checked_value = checked_value
        kwargs.setdefault("widget", StrictCheckboxInput(checked_value=checked_value))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> bool:
        if value is None or value is False:
            return False
        if value is True or value == self.checked_value:
            return True
        raise ValidationError(self.error_messages["invalid"], code="invalid")

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(initial) != self.to_python(data)
        except ValidationError:
            return True


MISSING_FIELD = _(
    "This part of the form did not arrive, so nothing was saved. Your text is still here: "
    "please check it and save again."
)


class PostedFieldsMixin(forms.Form):
    """Refuse a POST that lacks one of ``posted_fields`` (every field when None)."""

    posted_fields: tuple[str, ...] | None = None  # None: every field

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        names = tuple(self.fields) if self.posted_fields is None else self.posted_fields
        for name in names:
            if self.add_prefix(name) not in self.data:
                self.add_error(name if name in self.fields else None, MISSING_FIELD)
        return data


class PhoneField(forms.CharField):
    """A phone number: refused unless it parses as a valid number of the region (or of
    another country, written with ``+``); cleaned to E.164. ``allow_short_codes`` keeps
    national short codes (988, 911) as their digits."""

    def __init__(self, *, allow_short_codes: bool = False, **kwargs: Any) -> None:
        self.allow_short_codes = allow_short_codes
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        text = clean_free_text(value, multiline=False)
        if text in self.empty_values:
            return ""
        try:
            return parse_phone(text, allow_short_codes=self.allow_short_codes)
        except InvalidPhoneNumber:
            example = (
                _(
                    "Write the number with its area code, for example 413-555-0100, or a short "
                    "code such as 988."
                )
                if self.allow_short_codes
                else _("Write the number with its area code, for example 413-555-0100.")
            )
            raise ValidationError(
                _("This is not a phone number that can be dialled. %(example)s"),
                code="phone",
                params={"example": example},
            ) from None
