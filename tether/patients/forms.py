"""Forms for admission, level-of-care changes and discharge: they validate; services act."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tether.patients.models import Episode, LevelOfCare, LevelOfCareChange


class DateInput(forms.DateInput):
    input_type = "date"


class AdmitForm(forms.Form):
    level_of_care = forms.ChoiceField(label=_("Level of care"), choices=LevelOfCare.choices)
    admitted_on = forms.DateField(label=_("Admission date"), widget=DateInput)


class LevelChangeForm(forms.Form):
    to_level = forms.ChoiceField(label=_("New level of care"), choices=LevelOfCare.choices)
    changed_on = forms.DateField(label=_("From"), widget=DateInput)
    reason = forms.ChoiceField(label=_("Why"), choices=LevelOfCareChange.Reason.choices)


class DischargeForm(forms.Form):
    discharged_on = forms.DateField(label=_("Discharge date"), widget=DateInput)
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[(r.value, r.label) for r in Episode.OFFERED_ENDINGS],
        widget=forms.RadioSelect,
        help_text=_(
            "Completed and stepped down are planned endings; the others count as unplanned "
            "(dropout) in the outcomes report."
        ),
    )
    next_appointments = forms.CharField(
        label=_("Next appointments after discharge"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
    )
    who_to_call = forms.CharField(
        label=_("Who to call"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
    )
    keeps_safety_plan = forms.BooleanField(
        label=_("The patient keeps their safety plan"), required=False, initial=True
    )
    offer_final_measures = forms.BooleanField(
        label=_("Offer a final PHQ-9 and GAD-7"), required=False, initial=True
    )
