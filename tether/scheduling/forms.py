"""Forms for the schedule: they validate what was typed; services act."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tether.organizations.models import Program, StaffMember
from tether.scheduling.models import Appointment

WEEKDAYS = [
    ("0", _("Monday")),
    ("1", _("Tuesday")),
    ("2", _("Wednesday")),
    ("3", _("Thursday")),
    ("4", _("Friday")),
    ("5", _("Saturday")),
    ("6", _("Sunday")),
]


class DateInput(forms.DateInput):
    input_type = "date"


class TimeInput(forms.TimeInput):
    input_type = "time"


def clinicians_of(program: Program) -> Any:
    return (
        StaffMember.objects.filter(
            programs=program, is_active=True, role__in=StaffMember.CLINICAL_ROLES
        )
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "pk")
    )


class StaffChoiceField(forms.ModelChoiceField[StaffMember]):
    def label_from_instance(self, obj: StaffMember) -> str:
        return obj.user.get_full_name() or obj.user.get_username()


class _WhereForm(forms.Form):
    location = forms.CharField(label=_("Room (optional)"), max_length=200, required=False)
    video_url = forms.URLField(
        label=_("Video link (optional)"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=_("Patients see this link on their sessions page."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("location") and not data.get("video_url"):
            raise forms.ValidationError(_("Give a room, a video link, or both."))
        return data


class SeriesForm(_WhereForm):
    title = forms.CharField(label=_("Name of the group"), max_length=200)
    weekdays = forms.MultipleChoiceField(
        label=_("Days"), choices=WEEKDAYS, widget=forms.CheckboxSelectMultiple
    )
    starts_at_time = forms.TimeField(label=_("Starts at"), widget=TimeInput)
    minutes = forms.IntegerField(label=_("Length in minutes"), min_value=15, max_value=360)
    first_day = forms.DateField(label=_("First day"), widget=DateInput)
    last_day = forms.DateField(label=_("Last day"), widget=DateInput)
    facilitator = StaffChoiceField(label=_("Facilitator"), queryset=StaffMember.objects.none())

    field_order = [
        "title",
        "weekdays",
        "starts_at_time",
        "minutes",
        "first_day",
        "last_day",
        "facilitator",
        "location",
        "video_url",
    ]

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["facilitator"].queryset = clinicians_of(program)  # type: ignore[attr-defined]  # a ModelChoiceField

    def weekday_code(self) -> str:
        return "".join(sorted(self.cleaned_data["weekdays"]))


class BookForm(_WhereForm):
    kind = forms.ChoiceField(
        label=_("Kind of session"),
        choices=[
            (Appointment.Kind.INDIVIDUAL.value, Appointment.Kind.INDIVIDUAL.label),
            (Appointment.Kind.FAMILY.value, Appointment.Kind.FAMILY.label),
        ],
    )
    day = forms.DateField(label=_("Day"), widget=DateInput)
    starts_at_time = forms.TimeField(label=_("Starts at"), widget=TimeInput)
    minutes = forms.IntegerField(label=_("Length in minutes"), min_value=15, max_value=360)
    clinician = StaffChoiceField(label=_("Clinician"), queryset=StaffMember.objects.none())

    field_order = ["kind", "day", "starts_at_time", "minutes", "clinician", "location", "video_url"]

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.program = program
        self.fields["clinician"].queryset = clinicians_of(program)  # type: ignore[attr-defined]  # a ModelChoiceField

    def starts_at(self) -> dt.datetime:
        return dt.datetime.combine(
            self.cleaned_data["day"],
            self.cleaned_data["starts_at_time"],
            tzinfo=self.program.tzinfo,
        )


class ChangeForm(_WhereForm):
    day = forms.DateField(label=_("Day"), widget=DateInput)
    starts_at_time = forms.TimeField(label=_("Starts at"), widget=TimeInput)
    minutes = forms.IntegerField(label=_("Length in minutes"), min_value=15, max_value=360)

    field_order = ["day", "starts_at_time", "minutes", "location", "video_url"]

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.program = program

    def starts_at(self) -> dt.datetime:
        return dt.datetime.combine(
            self.cleaned_data["day"],
            self.cleaned_data["starts_at_time"],
            tzinfo=self.program.tzinfo,
        )


class CancelForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why is it cancelled?"),
        # Ending a whole group has its own control on the group's page.
        choices=[
            c
            for c in Appointment.CancelReason.choices
            if c[0] != Appointment.CancelReason.GROUP_ENDED
        ],
    )


class SeriesChangeForm(_WhereForm):
    facilitator = StaffChoiceField(label=_("Facilitator"), queryset=StaffMember.objects.none())

    field_order = ["facilitator", "location", "video_url"]

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["facilitator"].queryset = clinicians_of(program)  # type: ignore[attr-defined]  # a ModelChoiceField
