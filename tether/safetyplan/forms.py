from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tether.safetyplan.models import MAX_STEP_LENGTH, STEPS


class SafetyPlanForm(forms.Form):
    based_on = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for number, (name, title, help_text) in enumerate(STEPS, start=1):
            self.fields[name] = forms.CharField(
                label=_("Step %(number)s: %(title)s") % {"number": number, "title": title},
                help_text=help_text,
                required=False,
                max_length=MAX_STEP_LENGTH,
                widget=forms.Textarea(attrs={"rows": 4}),
                error_messages={
                    "max_length": _(
                        "This is too long to save (%(limit_value)d characters at most, "
                        "you wrote %(show_value)d). Please shorten it; your text is still here."
                    )
                },
            )

    def step_fields(self) -> list[forms.BoundField]:
        return [self[name] for name, _title, _help in STEPS]
