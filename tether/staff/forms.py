from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tether.accounts.models import IdentityDocument, ResetCode, User
from tether.lib.forms import FreeTextField, PhoneField
from tether.organizations.models import Program, StaffMember
from tether.patients.models import LevelOfCare, Patient
from tether.staff.selectors import clinicians_for_intake, programs_for_intake


class DateInput(forms.DateInput):
    input_type = "date"


class PatientIntakeForm(forms.Form):
    first_name = FreeTextField(label=_("First name"), max_length=100)
    last_name = FreeTextField(label=_("Last name"), max_length=100)
    preferred_name = FreeTextField(
        label=_("Preferred name (optional)"), max_length=100, required=False
    )
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=DateInput)
    record_number = FreeTextField(label=_("Record number (MRN)"), max_length=32)
    mobile_phone = PhoneField(label=_("Mobile phone (optional)"), required=False)
    email = forms.EmailField(label=_("Email (optional)"), required=False)
    program: forms.ModelChoiceField[Program] = forms.ModelChoiceField(
        label=_("Program"), queryset=Program.objects.none(), empty_label=None
    )
    level_of_care = forms.ChoiceField(label=_("Level of care"), choices=LevelOfCare.choices)
    admitted_on = forms.DateField(label=_("Admission date"), widget=DateInput)
    primary_therapist: forms.ModelChoiceField[StaffMember] = forms.ModelChoiceField(
        label=_("Primary therapist"), queryset=StaffMember.objects.none(), required=False
    )
    language = forms.ChoiceField(
        label=_("Language the patient reads Tether in"),
        choices=[("", _("Not chosen: their phone's language")), *User.Language.choices],
        required=False,
    )

    def __init__(self, *args: Any, staff: StaffMember, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.staff = staff
        self.fields["program"].queryset = programs_for_intake(staff=staff)  # type: ignore[attr-defined]
        self.fields["primary_therapist"].queryset = clinicians_for_intake(staff=staff)  # type: ignore[attr-defined]
        self.fields["primary_therapist"].label_from_instance = (  # type: ignore[attr-defined]
            lambda member: member.user.get_full_name()
        )
        if not self.is_bound:
            self.initial.setdefault("admitted_on", timezone.localdate())

    def clean_date_of_birth(self) -> dt.date:
        born: dt.date = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if born >= today or born.year < today.year - 120:
            raise forms.ValidationError(
                _("Check the date of birth: it must be a real date in the past.")
            )
        return born

    def clean_record_number(self) -> str:
        number: str = self.cleaned_data["record_number"].strip()
        if Patient.objects.filter(
            organization_id=self.staff.organization_id, record_number=number
        ).exists():
            raise forms.ValidationError(
                _(
                    "A patient with this record number is already registered. Search for them instead."
                )
            )
        return number

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"].strip()
        if email and User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _("This email is already used by another account. Leave it empty or use another.")
            )
        return email


class ResetCodeConfirmationForm(forms.Form):
    """How the patient confirms a reset code for their account, which is in use: their
    identity checked in person now (the document recorded), or a one-time code sent to
    an address they have verified (``tether.accounts.confirmation``: one ``channel``
    per way of reaching them; email today)."""

    confirmation = forms.ChoiceField(
        label=_("How the patient confirms it is them"),
        widget=forms.RadioSelect,
        choices=[],
        error_messages={
            "required": _("Choose how the patient confirms it is them."),
            "invalid_choice": _(
                "That way is not available for this patient: they have no verified address "
                "for a code. Check their photo ID in person instead."
            ),
        },
    )
    identity_document = forms.ChoiceField(
        label=_("The photo ID you checked (in person)"),
        choices=[("", _("Choose the document")), *IdentityDocument.choices],
        required=False,
    )
    channel = forms.ChoiceField(
        label=_("Where the code goes"), widget=forms.RadioSelect, choices=[], required=False
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from tether.accounts.confirmation import channels_for

        channels = channels_for(user)
        choices = [
            (
                ResetCode.Confirmation.IN_PERSON.value,
                _("I checked the patient's photo ID in person, now"),
            )
        ]
        if channels:
            choices.append(
                (
                    ResetCode.Confirmation.ONE_TIME_CODE.value,
                    _("Send a one-time code to the patient; they type it with the reset code"),
                )
            )
        self.fields["confirmation"].choices = choices  # type: ignore[attr-defined]
        self.fields["channel"].choices = [  # type: ignore[attr-defined]
            (channel.code, f"{channel.label()} ({channel.masked_address(user)})")
            for channel in channels
        ]
        if channels:
            self.fields["channel"].initial = channels[0].code

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        method = data.get("confirmation")
        if method == ResetCode.Confirmation.IN_PERSON and not data.get("identity_document"):
            self.add_error(
                "identity_document", _("Say which photo ID you checked before giving a code.")
            )
        if method == ResetCode.Confirmation.ONE_TIME_CODE and not data.get("channel"):
            self.add_error("channel", _("Choose where the code goes."))
        return data
