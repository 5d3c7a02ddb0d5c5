from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tether.crisis.models import UrgentContactRequest
from tether.lib.forms import CheckboxField, FreeTextField, PhoneField


class CloseRequestForm(forms.Form):
    contact_method = forms.ChoiceField(
        label=_("How contact was made"),
        choices=UrgentContactRequest.ContactMethod.choices,
        widget=forms.RadioSelect,
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=UrgentContactRequest.Outcome.choices, widget=forms.RadioSelect
    )
    safety_plan_reviewed = CheckboxField(
        label=_("Safety plan reviewed with the patient"), required=False
    )
    next_step = FreeTextField(
        label=_("Next step"),
        max_length=2000,
        multiline=True,
        rows=3,
        help_text=_("For example: same-day session booked at 9 AM; call again at 8 PM."),
    )


class CrisisLinesForm(forms.Form):
    """The program's own numbers, as patients see them on the crisis page and safety plan."""

    crisis_line = PhoneField(
        label=_("Program crisis line (answered around the clock)"), allow_short_codes=True
    )
    crisis_line_takes_texts = CheckboxField(
        label=_("This number takes text messages"),
        checked_value="1",  # the settings page writes its own check box
        required=False,
        help_text=_(
            "Tick only if texts to this number reach a person. A text sent to a landline "
            "is lost, so patients see a Text button only when this is ticked."
        ),
    )
    after_hours_line = PhoneField(
        label=_("After-hours on-call number (optional)"), required=False, allow_short_codes=True
    )
    spanish_spoken = CheckboxField(
        label=_("Spanish spoken on the crisis line"),
        checked_value="1",
        required=False,
        help_text=_(
            "Tick only if a Spanish speaker calling the crisis line is understood. "
            "Patients see “Spanish spoken” beside the number."
        ),
    )


class ClosureForm(forms.Form):
    date = forms.DateField(
        label=_("Date the office is closed"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    reason = FreeTextField(
        label=_("Reason (optional, staff only)"),
        max_length=100,
        required=False,
        help_text=_("For example: Thanksgiving. Patients do not see it."),
    )

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_date(self) -> dt.date:
        day: dt.date = self.cleaned_data["date"]
        if day < self.today:
            raise ValidationError(_("Pick today or a later date."), code="past")
        return day
