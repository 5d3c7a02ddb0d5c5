from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tether.lib.forms import CheckboxField, PhoneField


class PreferenceForm(forms.Form):
    sms_phone = PhoneField(label=_("Your mobile number for texts"), required=False)
    by_sms = CheckboxField(
        label=_("Yes, send me text messages"),
        required=False,
        help_text=_(
            "Up to a few a day. Message and data rates may apply. Reply STOP to stop, HELP for help."
        ),
    )
    by_push = CheckboxField(label=_("Notifications on this phone's installed app"), required=False)
    by_email = CheckboxField(label=_("E-mail"), required=False)
    checkin_due = CheckboxField(label=_("A check-in is waiting"), required=False)
    session_reminder = CheckboxField(
        label=_("Sessions (the day before and 2 hours before)"), required=False
    )
    homework_due = CheckboxField(label=_("Homework due"), required=False)
    care_team_message = CheckboxField(label=_("A new message from your care team"), required=False)
    daily_checkin_by_text = CheckboxField(
        label=_("Answer the daily mood question by text"), required=False
    )
    quiet_from = forms.TimeField(
        label=_("No messages from"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    quiet_until = forms.TimeField(label=_("until"), widget=forms.TimeInput(attrs={"type": "time"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("by_sms") or data.get("daily_checkin_by_text")) and not data.get("sms_phone"):
            self.add_error("sms_phone", _("Texts need your mobile number."))
        return data


class PushForm(forms.Form):
    endpoint = forms.URLField(max_length=600)
    p256dh = forms.CharField(max_length=200)
    auth = forms.CharField(max_length=100)


class PhoneReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"), max_length=1600, widget=forms.Textarea(attrs={"rows": 2})
    )
