"""The form a clinical lead or program admin uses to change one of a program's flag
rules. It only parses what was typed; ``rule_update`` validates the threshold against
the rule's range and saves (and audits) the change."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tether.flags.models import FlagRule, Severity
from tether.flags.rules import RULES
from tether.lib.forms import CheckboxField

# Rules whose threshold is itself a number of days: they do not look back over a
# window, so the form does not ask for one (the stored value is kept as it is).
NO_WINDOW = frozenset({"no_login", "missed_checkins", "no_reply"})


def uses_window(code: str) -> bool:
    return code not in NO_WINDOW


class RuleForm(forms.Form):
    # No min/max here on purpose: the rule's own range is checked by the service, which
    # says which numbers are allowed; the browser must not silently block the value.
    threshold = forms.IntegerField(label=_("Threshold"))
    window_days = forms.IntegerField(
        label=_("Looks back (days)"), help_text=_("Between 1 and 90 days.")
    )
    severity = forms.TypedChoiceField(label=_("Severity"), choices=Severity.choices, coerce=int)
    enabled = CheckboxField(label=_("In use"), required=False)

    def __init__(self, *args: Any, rule: FlagRule, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "threshold": rule.threshold,
                "window_days": rule.window_days,
                "severity": rule.severity,
                "enabled": rule.enabled,
            },
        )
        super().__init__(*args, **kwargs)
        self.rule = rule
        spec = RULES[rule.code]
        self.fields["threshold"].label = _("Threshold (%(unit)s)") % {"unit": spec.unit}
        self.fields["threshold"].help_text = _("Between %(low)d and %(high)d %(unit)s.") % {
            "low": spec.threshold_min,
            "high": spec.threshold_max,
            "unit": spec.unit,
        }
        if not uses_window(rule.code):
            del self.fields["window_days"]

    def cleaned_window(self) -> int:
        return int(self.cleaned_data.get("window_days", self.rule.window_days))


class SnoozeForm(forms.Form):
    """Parses what was typed; ``flag_snooze`` checks the date and the reason."""

    until = forms.DateField(
        label=_("Quiet until"),
        help_text=_("The flag comes back to the queue on this date (28 days at most)."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reason = forms.CharField(
        label=_("Why it can wait"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=500,
    )
