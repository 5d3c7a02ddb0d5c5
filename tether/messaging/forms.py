from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from tether.messaging.models import MAX_MESSAGE_LENGTH


class _BodyForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"),
        strip=True,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Write a message before sending.")},
    )
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not self.is_bound:
            self.initial["idempotency_key"] = uuid.uuid4()

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"]
        if len(body) > MAX_MESSAGE_LENGTH:
            raise forms.ValidationError(
                _(
                    "This message is %(length)d characters long. Please keep it under "
                    "%(limit)d, or send it in two parts."
                ),
                params={"length": len(body), "limit": MAX_MESSAGE_LENGTH},
            )
        return body


class PatientMessageForm(_BodyForm):
    urgent = forms.BooleanField(
        label=_("This is urgent: ask my care team to contact me"), required=False
    )


class FamilyMessageForm(_BodyForm):
    urgent = forms.BooleanField(
        label=_("This is urgent: ask the care team to contact me"), required=False
    )


class StaffReplyForm(_BodyForm):
    body = forms.CharField(
        label=_("Reply to the patient"),
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write a reply before sending.")},
    )


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Internal note (staff only, never shown to the patient)"),
        strip=True,
        max_length=MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write a note before saving.")},
    )


class PhraseForm(forms.Form):
    phrase = forms.CharField(label=_("Add a phrase"), max_length=100)
