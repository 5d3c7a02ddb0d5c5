from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tether.accounts.models import IdentityDocument
from tether.consent.models import ConsentDirective, Disclosure, Recipient
from tether.lib.forms import CheckboxField, FreeTextField
from tether.privacy.models import Purpose
from tether.privacy.policy import Category

# Plain words for patients, per category a consent can cover.
CATEGORY_WORDS = {
    Category.GENERAL.value: _("My appointments and attendance"),
    Category.MENTAL_HEALTH.value: _("My mental-health treatment records"),
    Category.SELF_REPORT.value: _("What I report (check-ins and questionnaires)"),
    Category.PART2.value: _("My substance-use treatment records"),
}
PURPOSE_CHOICES = [
    (Purpose.TREATMENT.value, _("To help with my treatment")),
    (Purpose.PAYMENT.value, _("To pay for my care")),
    (Purpose.OPERATIONS.value, _("To run the program (health-care operations)")),
]
MAX_TEXT = 2000


class ConsentForm(forms.Form):
    recipient = forms.ModelChoiceField(
        label=_("Who may receive it"), queryset=Recipient.objects.none(), empty_label=None
    )
    category = forms.ChoiceField(
        label=_("What may be shared"),
        choices=list(CATEGORY_WORDS.items()),
        widget=forms.RadioSelect,
    )
    description = FreeTextField(
        label=_("Describe exactly what may be shared"),
        help_text=_("For example: my attendance and a short summary of my progress."),
        max_length=MAX_TEXT,
        multiline=True,
        rows=3,
    )
    purpose = forms.ChoiceField(label=_("Why"), choices=PURPOSE_CHOICES, widget=forms.RadioSelect)
    expires_on = forms.DateField(
        label=_("This consent ends on"),
        help_text=_("At most one year from today."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    signature_name = FreeTextField(label=_("Type your full name to sign"), max_length=200)
    agree = CheckboxField(
        label=_("I have read this, I understand it, and I agree to share this information.")
    )

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["recipient"]
        if isinstance(field, forms.ModelChoiceField):
            field.queryset = Recipient.objects.filter(
                organization_id=organization_id, is_active=True
            )

    def clean_expires_on(self) -> dt.date:
        value: dt.date = self.cleaned_data["expires_on"]
        today = timezone.localdate()
        if value < today:
            raise forms.ValidationError(_("Choose a date from today on."))
        if value > today + dt.timedelta(days=366):
            raise forms.ValidationError(_("Choose a date within one year."))
        return value


class StaffConsentForm(ConsentForm):
    """The consent form on a staff device, plus the step the patient does themself."""

    patient_confirmation = forms.ChoiceField(
        label=_("How the patient confirms this is their own act"),
        widget=forms.RadioSelect,
        choices=[
            (
                ConsentDirective.PatientConfirmed.PATIENT_PASSWORD.value,
                _("The patient types their own password here"),
            ),
            (
                ConsentDirective.PatientConfirmed.IN_PERSON.value,
                _("The patient signs in front of me; I checked their photo ID"),
            ),
        ],
        error_messages={"required": _("Choose how the patient confirms it is them.")},
    )
    patient_password = forms.CharField(
        label=_("Patient: type your own password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    identity_document = forms.ChoiceField(
        label=_("The photo ID you checked (in person)"),
        choices=[("", _("Choose the document")), *IdentityDocument.choices],
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        how = data.get("patient_confirmation")
        if how == ConsentDirective.PatientConfirmed.PATIENT_PASSWORD and not data.get(
            "patient_password"
        ):
            self.add_error("patient_password", _("The patient types their own password."))
        if how == ConsentDirective.PatientConfirmed.IN_PERSON and not data.get("identity_document"):
            self.add_error("identity_document", _("Say which photo ID you checked."))
        return data


class CoordinationForm(forms.Form):
    recipient = forms.ModelChoiceField(
        label=_("Send to"), queryset=Recipient.objects.none(), empty_label=None
    )
    kind = forms.ChoiceField(
        label=_("Kind of update"),
        # The packet is a PDF built from the record, released from its own page.
        choices=[c for c in Disclosure.Kind.choices if c[0] != Disclosure.Kind.UR_PACKET],
    )
    content = FreeTextField(
        label=_("What to send"), max_length=MAX_TEXT * 2, multiline=True, rows=6
    )
    # No "contains Part 2" choice: what is sent is labelled from the patient's programs
    # (``gate.disclosure_category_for``), never by the sender.

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["recipient"]
        if isinstance(field, forms.ModelChoiceField):
            field.queryset = Recipient.objects.filter(
                organization_id=organization_id, is_active=True
            )


class MeasureExportForm(forms.Form):
    """Export the patient's PHQ-9 and GAD-7 history to one recipient (a disclosure)."""

    recipient = forms.ModelChoiceField(
        label=_("Send to"), queryset=Recipient.objects.none(), empty_label=None
    )

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["recipient"]
        if isinstance(field, forms.ModelChoiceField):
            field.queryset = Recipient.objects.filter(
                organization_id=organization_id, is_active=True
            )


class RecipientForm(forms.Form):
    name = FreeTextField(label=_("Name"), max_length=200)
    recipient_organization = FreeTextField(label=_("Organization"), max_length=200, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=Recipient.Kind.choices)
    payer_identifier = FreeTextField(
        label=_("Payer ID (health plan or payer only)"),
        help_text=_("The payer's own identifier, as on its claims, for example its payer ID."),
        max_length=64,
        required=False,
    )
    plan_identifier = FreeTextField(
        label=_("Plan or group number (health plan or payer only)"),
        max_length=64,
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        payer = data.get("kind") == Recipient.Kind.HEALTH_PLAN
        if payer and not (data.get("payer_identifier") or "").strip():
            self.add_error("payer_identifier", _("Give the payer's ID: the reviewer needs it."))
        if not payer:
            for name in ("payer_identifier", "plan_identifier"):
                if (data.get(name) or "").strip():
                    self.add_error(name, _("Only a health plan or payer has a payer ID."))
        return data


class UrPacketForm(forms.Form):
    """The utilization-review packet: to which payer, for which period, and the
    clinician's summary. Whether it may go is decided by the patient's consents."""

    recipient = forms.ModelChoiceField(
        label=_("Payer"), queryset=Recipient.objects.none(), empty_label=None
    )
    period_start = forms.DateField(
        label=_("Period from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label=_("Period to"), widget=forms.DateInput(attrs={"type": "date"})
    )
    summary = FreeTextField(
        label=_("Clinician's summary"),
        help_text=_(
            "For the reviewer: why this level of care is needed now, progress against the "
            "treatment plan, and the plan for the next period."
        ),
        max_length=MAX_TEXT * 2,
        multiline=True,
        rows=8,
    )

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["recipient"]
        if isinstance(field, forms.ModelChoiceField):
            field.queryset = Recipient.objects.filter(
                organization_id=organization_id,
                is_active=True,
                kind=Recipient.Kind.HEALTH_PLAN,
            )


class AmendmentForm(forms.Form):
    about = FreeTextField(
        label=_("What is wrong in your record?"),
        max_length=MAX_TEXT,
        multiline=True,
        rows=3,
    )
    correction = FreeTextField(
        label=_("What should it say?"),
        max_length=MAX_TEXT,
        multiline=True,
        rows=3,
    )


class AmendmentDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("accept", _("Accept: add the correction to the record")), ("deny", _("Deny"))],
        widget=forms.RadioSelect,
    )
    note = FreeTextField(
        label=_("Note (required when you deny: the reason is added to the record)"),
        max_length=MAX_TEXT,
        required=False,
        multiline=True,
        rows=3,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "deny" and not (data.get("note") or "").strip():
            self.add_error("note", _("Give the reason for the denial."))
        return data
