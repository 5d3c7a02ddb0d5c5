"""Audit report filters.

The officer types a username and a patient's record number; neither may appear in
a URL (they identify people). So the typed form is POSTed, resolved to internal ids,
and the report's own URL (links to pages, sort order, CSV) carries only ids, dates
and codes: ``AuditQueryForm`` reads those back.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tether.accounts.models import User
from tether.patients.models import Patient
from tether.privacy.models import AuditEvent
from tether.privacy.selectors import AuditFilter

DEFAULT_DAYS = 30
SORT_CHOICES = [("newest", _("Newest first")), ("oldest", _("Oldest first"))]
OUTCOME_CHOICES = [("", _("Allowed and refused")), *AuditEvent.Outcome.choices]


class DateInput(forms.DateInput):
    input_type = "date"


def default_period(tz: zoneinfo.ZoneInfo) -> tuple[dt.date, dt.date]:
    today = timezone.localdate(timezone=tz)
    return today - dt.timedelta(days=DEFAULT_DAYS - 1), today


def _check_period(cleaned: dict[str, Any], start: str, end: str, form: forms.Form) -> None:
    first, last = cleaned.get(start), cleaned.get(end)
    if first and last and last < first:
        form.add_error(end, _("The end date is before the start date."))


class AuditSearchForm(forms.Form):
    """What the officer types (POST)."""

    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("To (inclusive)"), required=False, widget=DateInput)
    username = forms.CharField(
        label=_("User (username)"),
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    record_number = forms.CharField(
        label=_("Patient record number (MRN)"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    outcome = forms.ChoiceField(label=_("Outcome"), choices=OUTCOME_CHOICES, required=False)
    sort = forms.ChoiceField(label=_("Order"), choices=SORT_CHOICES, required=False)

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization_id = organization_id
        self.actor_id: int | None = None
        self.patient_id: int | None = None

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"].strip()
        if username:
            actor_id = (
                User.objects.filter(organization_id=self.organization_id, username__iexact=username)
                .values_list("pk", flat=True)
                .first()
            )
            if actor_id is None:
                raise forms.ValidationError(_("No one in your organization has this username."))
            self.actor_id = actor_id
        return username

    def clean_record_number(self) -> str:
        number: str = self.cleaned_data["record_number"].strip()
        if number:
            patient_id = (
                Patient.objects.filter(organization_id=self.organization_id, record_number=number)
                .values_list("pk", flat=True)
                .first()
            )
            if patient_id is None:
                raise forms.ValidationError(_("No patient in your organization has this number."))
            self.patient_id = patient_id
        return number

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _check_period(cleaned, "date_from", "date_to", self)
        return cleaned

    def query(self) -> dict[str, str]:
        """The report's URL parameters: ids, dates and codes only."""
        data = self.cleaned_data
        params = {
            "from": data["date_from"].isoformat() if data.get("date_from") else "",
            "to": data["date_to"].isoformat() if data.get("date_to") else "",
            "actor": str(self.actor_id or ""),
            "patient": str(self.patient_id or ""),
            "outcome": data.get("outcome") or "",
            "sort": data.get("sort") or "",
        }
        return {key: value for key, value in params.items() if value}


class AuditQueryForm(forms.Form):
    """The report's URL parameters (GET), checked again: a link can be edited."""

    from_ = forms.DateField(required=False)
    to = forms.DateField(required=False)
    actor = forms.IntegerField(required=False, min_value=1)
    patient = forms.IntegerField(required=False, min_value=1)
    outcome = forms.ChoiceField(choices=OUTCOME_CHOICES, required=False)
    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False)

    def __init__(self, data: Any, *, organization_id: int, tz: zoneinfo.ZoneInfo) -> None:
        data = data.copy()
        if "from" in data:
            data["from_"] = data.pop("from")[-1]
        super().__init__(data)
        self.organization_id = organization_id
        self.tz = tz
        self.actor_user: User | None = None
        self.patient_record: Patient | None = None

    def clean_actor(self) -> int | None:
        actor_id: int | None = self.cleaned_data["actor"]
        if actor_id is not None:
            self.actor_user = User.objects.filter(
                pk=actor_id, organization_id=self.organization_id
            ).first()
            if self.actor_user is None:
                raise forms.ValidationError(_("This user is not in your organization."))
        return actor_id

    def clean_patient(self) -> int | None:
        patient_id: int | None = self.cleaned_data["patient"]
        if patient_id is not None:
            self.patient_record = Patient.objects.filter(
                pk=patient_id, organization_id=self.organization_id
            ).first()
            if self.patient_record is None:
                raise forms.ValidationError(_("This patient is not in your organization."))
        return patient_id

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _check_period(cleaned, "from_", "to", self)
        return cleaned

    def period(self) -> tuple[dt.date, dt.date]:
        first, last = default_period(self.tz)
        return self.cleaned_data.get("from_") or first, self.cleaned_data.get("to") or last

    def audit_filter(self) -> AuditFilter:
        first, last = self.period()
        starts = dt.datetime.combine(first, dt.time.min, tzinfo=self.tz)
        ends = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=self.tz)
        return AuditFilter(
            organization_id=self.organization_id,
            starts=starts,
            ends=ends,
            actor_id=self.cleaned_data.get("actor"),
            patient_id=self.cleaned_data.get("patient"),
            outcome=self.cleaned_data.get("outcome") or "",
            oldest_first=self.cleaned_data.get("sort") == "oldest",
        )

    def search_initial(self) -> dict[str, object]:
        """What the typed form shows for this query."""
        first, last = self.period()
        return {
            "date_from": first,
            "date_to": last,
            "username": self.actor_user.username if self.actor_user is not None else "",
            "record_number": (
                self.patient_record.record_number if self.patient_record is not None else ""
            ),
            "outcome": self.cleaned_data.get("outcome") or "",
            "sort": self.cleaned_data.get("sort") or "newest",
        }
