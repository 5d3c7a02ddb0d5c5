from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tether.lib.forms import FreeTextField, PostedFieldsMixin
from tether.safetyplan.models import MAX_STEP_LENGTH, STEPS


class SafetyPlanForm(PostedFieldsMixin, forms.Form):
    """Every step must be in the POST: a missing step is refused (nothing is
    overwritten); a step sent empty is the author's choice."""

    based_on = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for number, (name, title, help_text) in enumerate(STEPS, start=1):
            self.fields[name] = FreeTextField(
                label=_("Step %(number)s: %(title)s") % {"number": number, "title": title},
                help_text=help_text,
                required=False,
                max_length=MAX_STEP_LENGTH,
                multiline=True,
                rows=4,
                error_messages={
                    "max_length": _(
                        "This is too long to save (%(limit_value)d characters at most, "
                        "you wrote %(show_value)d). Please shorten it; your text is still here."
                    )
                },
            )

    def step_fields(self) -> list[forms.BoundField]:
        return [self[name] for name, _title, _help in STEPS]
