from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tether.homework.library import Definition, FieldDef, StepDef
from tether.homework.services import MAX_FEEDBACK_LENGTH, MAX_NOTE_LENGTH
from tether.lib.forms import CheckboxField, FreeTextField, PostedFieldsMixin


def _too_long() -> dict[str, Any]:
    return {
        "max_length": _(
            "This is too long to save (%(limit_value)d characters at most, you wrote "
            "%(show_value)d). Please shorten it; your text is still here."
        )
    }


def _form_field(f: FieldDef) -> forms.Field:
    common: dict[str, Any] = {"label": f.label, "help_text": f.help, "required": False}
    if f.kind == "text":
        return FreeTextField(max_length=f.limit, error_messages=_too_long(), **common)
    if f.kind in ("long_text", "list"):
        return FreeTextField(
            max_length=f.limit,
            multiline=True,
            rows=5 if f.kind == "list" else 4,
            error_messages=_too_long(),
            **common,
        )
    if f.kind == "scale":
        choices = []
        for n in range(f.min, f.max + 1):
            label = str(n)
            if n == f.min and f.min_label:
                label = f"{n} ({f.min_label})"
            elif n == f.max and f.max_label:
                label = f"{n} ({f.max_label})"
            choices.append((str(n), label))
        return forms.TypedChoiceField(
            choices=choices,
            coerce=int,
            empty_value=None,
            widget=forms.RadioSelect(attrs={"class": "scale"}),
            error_messages={"invalid_choice": _("Please choose one of the numbers shown.")},
            **common,
        )
    return forms.MultipleChoiceField(
        choices=[(c, c) for c in f.choices],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Please choose from the list shown.")},
        **common,
    )


class StepForm(PostedFieldsMixin, forms.Form):
    """One step of an assignment, built from the template data.

    Every text box must be in the POST: a missing one is refused, never saved as
    blank over what was written before (an unticked choice is simply absent, so
    choices are not checked)."""

    def __init__(self, *args: Any, step: StepDef, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.step = step
        for f in step.fields:
            self.fields[f.key] = _form_field(f)
        self.posted_fields = tuple(
            f.key for f in step.fields if f.kind in ("text", "long_text", "list")
        )

    def answers(self, number: int) -> dict[str, Any]:
        return {f"{number}.{key}": value for key, value in self.cleaned_data.items()}


class AssignForm(forms.Form):
    template = forms.ChoiceField(label=_("Homework"))
    due_on = forms.DateField(
        label=_("Due on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    note = FreeTextField(
        label=_("Note for the patient (optional)"),
        required=False,
        max_length=MAX_NOTE_LENGTH,
        multiline=True,
        rows=3,
        error_messages=_too_long(),
    )
    for_family = CheckboxField(
        label=_("For the family (a family-therapy assignment)"),
        required=False,
        help_text=_(
            "Family members with the “family-therapy assignments” scope can read "
            "the assignment, its instructions and your note, but never the patient's "
            "answers. Keep the note free of clinical details. Not available in a program "
            "that treats substance use."
        ),
    )

    def __init__(
        self,
        *args: Any,
        library: dict[str, Definition],
        allow_family: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("initial", {}).setdefault(
            "due_on", timezone.localdate() + timedelta(days=7)
        )
        super().__init__(*args, **kwargs)
        self.library = library
        self.fields["template"].choices = [  # type: ignore[attr-defined]
            (key, d.title) for key, d in library.items()
        ]
        if not allow_family:  # a group session: each attendee's own homework
            del self.fields["for_family"]

    def clean_due_on(self) -> Any:
        due = self.cleaned_data["due_on"]
        if due < timezone.localdate():
            raise forms.ValidationError(_("The due date cannot be in the past."))
        if due > timezone.localdate() + timedelta(days=366):
            raise forms.ValidationError(_("The due date must be within a year."))
        return due

    def definition(self) -> Definition:
        return self.library[self.cleaned_data["template"]]


class FeedbackForm(forms.Form):
    feedback = FreeTextField(
        label=_("Feedback the patient will see"),
        max_length=MAX_FEEDBACK_LENGTH,
        multiline=True,
        rows=3,
        error_messages=_too_long(),
    )
