from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tether.crisis.models import UrgentContactRequest


class CloseRequestForm(forms.Form):
    contact_method = forms.ChoiceField(
        label=_("How contact was made"),
        choices=UrgentContactRequest.ContactMethod.choices,
        widget=forms.RadioSelect,
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=UrgentContactRequest.Outcome.choices, widget=forms.RadioSelect
    )
    safety_plan_reviewed = forms.BooleanField(
        label=_("Safety plan reviewed with the patient"), required=False
    )
    next_step = forms.CharField(
        label=_("Next step"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: same-day session booked at 9 AM; call again at 8 PM."),
    )
