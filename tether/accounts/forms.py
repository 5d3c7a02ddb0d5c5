from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordResetForm,
    SetPasswordForm,
    SetPasswordMixin,
)
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tether.accounts.models import TwoStepReset, User


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
    # Patients only: sign in straight into the shared-device view
    # (tether.consent.shared_device); ignored for staff and family members.
    quick_view = forms.BooleanField(
        label=_("This is a shared device — show only appointments and crisis help (quick view)"),
        required=False,
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


# --- Shared pieces ----------------------------------------------------------------


def _minimum_password_length() -> int:
    for validator in password_validation.get_default_password_validators():
        if isinstance(validator, password_validation.MinimumLengthValidator):
            return validator.min_length
    return 8


def _password_help() -> str:
    return gettext("At least %(count)d characters. A short sentence is easy to remember.") % {
        "count": _minimum_password_length()
    }


# Lazy: the minimum comes from settings (PASSWORD_MIN_LENGTH) when the page is drawn.
PASSWORD_HELP = lazy(_password_help, str)()


class PlainForm(forms.Form):
    """Labels without a trailing colon; the templates render each field as a group with
    its help text and errors linked by ``aria-describedby``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def _digits_only(value: str) -> str:
    """People copy codes with spaces or dashes ("1234 5678", "123-456"); keep the digits."""
    return "".join(ch for ch in value if ch not in " -\u00a0\t")


class NoEchoTextInput(forms.TextInput):
    """A text box that never sends the typed value back in the page: a secret code
    must not sit in the HTML of an error page on a shared phone."""

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        return super().get_context(name, None, attrs)


def _new_password_fields() -> tuple[forms.CharField, forms.CharField]:
    first = forms.CharField(
        label=_("New password"),
        strip=False,
        error_messages={"required": _("Choose a new password.")},
        help_text=PASSWORD_HELP,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    second = forms.CharField(
        label=_("Type the same password again"),
        strip=False,
        error_messages={"required": _("Type the same password again, to be sure.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    return first, second


_PASSWORD_MISMATCH = _("The two passwords are not the same. Type them again.")


# --- Two-step sign-in --------------------------------------------------------------


class OneTimeCodeForm(PlainForm):
    """The 6-digit code from an authenticator app."""

    code = forms.CharField(
        label=_("6-digit code from your app"),
        max_length=16,
        error_messages={"required": _("Type the 6 numbers your app shows now.")},
        widget=NoEchoTextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "autocapitalize": "none",
                "spellcheck": "false",
            }
        ),
    )

    def clean_code(self) -> str:
        code = _digits_only(self.cleaned_data["code"])
        if len(code) != 6 or not (code.isascii() and code.isdigit()):
            raise forms.ValidationError(
                _("The code is 6 numbers. Type the numbers your app shows now.")
            )
        return code


# --- Choosing a password (invite, email reset link) ---------------------------------


class ChoosePasswordForm(SetPasswordForm[User]):
    """A new password, typed twice, checked by Django's validators for this person
    (length, common passwords, too close to their name; no composition rules)."""

    new_password1, new_password2 = _new_password_fields()

    error_messages = {"password_mismatch": _PASSWORD_MISMATCH}

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(user, *args, **kwargs)


class PasswordResetEmailForm(PasswordResetForm):
    email = forms.EmailField(
        label=_("Your email"),
        max_length=254,
        error_messages={
            "required": _("Type your email address."),
            "invalid": _("Check the email address: it looks like name@example.com."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autocapitalize": "none"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


# --- Front-desk reset code -----------------------------------------------------------


class ResetWithCodeForm(SetPasswordMixin[User], PlainForm):
    """Username, the 8-digit code from the front desk, and a new password.

    Whether the username and code are right is the service's decision, so every
    wrong combination gets the same message. The password is checked against the
    person's details only once the code has proved who they are.
    """

    username = forms.CharField(
        label=_("Your username"),
        max_length=254,
        error_messages={"required": _("Type your username.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    code = forms.CharField(
        label=_("Reset code from the front desk"),
        help_text=_("8 numbers, for example 1234 5678."),
        max_length=32,
        error_messages={"required": _("Type the code from the front desk.")},
        widget=NoEchoTextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    confirmation_code = forms.CharField(
        label=_("Confirmation code we sent you (if the front desk said so)"),
        help_text=_("6 numbers, in the email we sent you. Leave empty if you got none."),
        max_length=32,
        required=False,
        widget=NoEchoTextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "spellcheck": "false"}
        ),
    )
    new_password1, new_password2 = _new_password_fields()

    error_messages = {"password_mismatch": _PASSWORD_MISMATCH}

    def clean_confirmation_code(self) -> str:
        return _digits_only(self.cleaned_data.get("confirmation_code") or "")

    def clean_username(self) -> str:
        return str(self.cleaned_data["username"]).strip()

    def clean_code(self) -> str:
        code = _digits_only(self.cleaned_data["code"])
        if len(code) != 8 or not (code.isascii() and code.isdigit()):
            raise forms.ValidationError(_("The code is 8 numbers. Check it and type it again."))
        return code

    def clean(self) -> dict[str, Any] | None:
        self.validate_passwords("new_password1", "new_password2")
        return super().clean()


# --- Staff two-step reset (a program admin, for a colleague who lost their phone) ---------


class TwoStepResetForm(PlainForm):
    reason = forms.ChoiceField(
        label=_("Why are you resetting it?"),
        choices=TwoStepReset.Reason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a reason.")},
    )
    note = forms.CharField(
        label=_("Details"),
        max_length=200,
        required=False,
        help_text=_("Needed for “Other”. No patient information here."),
        error_messages={"max_length": _("Keep the details under 200 characters.")},
    )
    confirm = forms.BooleanField(
        label=_(
            "I have made sure it is really them asking: in person, or by calling them back "
            "on a number we already have."
        ),
        error_messages={"required": _("Tick the box once you have checked who is asking.")},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("reason") == TwoStepReset.Reason.OTHER and not data.get("note", "").strip():
            self.add_error("note", _("Say briefly why, when the reason is “Other”."))
        return data
