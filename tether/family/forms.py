from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tether.family.models import MAX_UPDATE_LENGTH
from tether.lib.forms import FreeTextField
from tether.patients.models import Proxy


class FamilyUpdateForm(forms.Form):
    body = FreeTextField(
        label=_("Update for the family"),
        help_text=_(
            "General progress only, in plain words: attendance, effort, what the family "
            "can do to help. No clinical details, diagnoses, check-in answers, medication "
            "or anything the patient said in confidence."
        ),
        max_length=MAX_UPDATE_LENGTH,
        multiline=True,
        rows=5,
        error_messages={
            "required": _("Write the update before sending."),
            "max_length": _(
                "This is too long to send (%(limit_value)d characters at most, you wrote "
                "%(show_value)d). Please shorten it; your text is still here."
            ),
        },
    )


class FamilyInviteForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    relationship = forms.ChoiceField(label=_("Relationship"), choices=Proxy.Relationship.choices)
    is_legal_guardian = forms.BooleanField(label=_("Legal guardian"), required=False)
    email = forms.EmailField(label=_("E-mail (optional with a QR code)"), required=False)
    send_email = forms.BooleanField(label=_("Send the invitation by e-mail"), required=False)
    scopes = forms.MultipleChoiceField(
        label=_("What they may see"),
        choices=Proxy.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    patient_agreed = forms.BooleanField(
        label=_("The patient agreed to these (for a teen: their assent)"), required=False
    )
