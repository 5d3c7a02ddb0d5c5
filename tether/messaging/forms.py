from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from tether.lib.forms import CheckboxField, FreeTextField
from tether.messaging.models import MAX_MESSAGE_LENGTH


class _BodyForm(forms.Form):
    body = FreeTextField(
        label=_("Your message"),
        multiline=True,
        rows=5,
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
    urgent = CheckboxField(
        label=_("This is urgent: ask my care team to contact me"), required=False
    )


class FamilyMessageForm(_BodyForm):
    urgent = CheckboxField(
        label=_("This is urgent: ask the care team to contact me"), required=False
    )


class StaffReplyForm(_BodyForm):
    body = FreeTextField(
        label=_("Reply to the patient"),
        multiline=True,
        rows=4,
        error_messages={"required": _("Write a reply before sending.")},
    )


class NoteForm(forms.Form):
    note = FreeTextField(
        label=_("Internal note (staff only, never shown to the patient)"),
        max_length=MAX_MESSAGE_LENGTH,
        multiline=True,
        rows=3,
        error_messages={"required": _("Write a note before saving.")},
    )


class PhraseForm(forms.Form):
    phrase = FreeTextField(label=_("Add a phrase"), max_length=100)
