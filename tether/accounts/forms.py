from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class SignInForm(AuthenticationForm):
    """Username or email, and password. One message for every failure, so it never
    reveals whether an account exists."""

    username = forms.CharField(
        label=_("Username or email"),
        max_length=254,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {
        "invalid_login": _(
            "That username and password don't match. Check them and try again. "
            "If you have forgotten your password, ask the front desk for a reset code "
            "or use the link below."
        ),
        "inactive": _(
            "That username and password don't match. Check them and try again. "
            "If you have forgotten your password, ask the front desk for a reset code "
            "or use the link below."
        ),
    }
