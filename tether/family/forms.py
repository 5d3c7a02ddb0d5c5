from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tether.family.models import MAX_UPDATE_LENGTH
from tether.lib.forms import FreeTextField


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
