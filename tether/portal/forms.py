"""The patient's form to send a copy of their record (ONC 170.315(e)(1) transmit)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _

from tether.lib.forms import PostedFieldsMixin
from tether.portal.models import RecordTransmission


class TransmitForm(PostedFieldsMixin, forms.Form):
    """Where to send the copy and in which file. A Direct address has the form of an
    e-mail address (``name@direct.clinic.example``), so both are checked the same way."""

    channel = forms.ChoiceField(
        label=_("Send it to"),
        choices=RecordTransmission.Channel.choices,
        widget=forms.RadioSelect,
    )
    address = forms.CharField(
        label=_("Address"),
        max_length=254,
        help_text=_(
            "An e-mail address, or the Direct address of a doctor's office "
            "(it looks like an e-mail address)."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    format = forms.ChoiceField(
        label=_("File to send"),
        choices=RecordTransmission.Format.choices,
        widget=forms.RadioSelect,
    )

    def clean_address(self) -> str:
        address = str(self.cleaned_data["address"]).strip()
        if any(ch in address for ch in "\r\n,;<>\"'") or address.count("@") != 1:
            raise forms.ValidationError(_("Type one address, like name@example.org."))
        try:
            EmailValidator()(address)
        except forms.ValidationError:
            raise forms.ValidationError(_("Type one address, like name@example.org.")) from None
        local, domain = address.rsplit("@", 1)
        return f"{local}@{domain.lower()}"

    def describe(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "channel": RecordTransmission.Channel(data["channel"]).label,
            "format": RecordTransmission.Format(data["format"]).label,
            "address": data["address"],
        }
