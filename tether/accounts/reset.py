"""Forgotten passwords, two ways.

- By email link: Django's reset views with Tether's wording. The request page
  never says whether the email belongs to an account, and the link page signs
  nobody in. Requests are limited per address and per client (``throttle``).
- By a code the front desk hands over in person, for people without email. Every
  kind of wrong answer gets the same message; a code stops working after a few
  wrong tries.

Either way, changing the password ends the person's other sessions (their
session hash no longer matches) and lifts a sign-in pause on their name.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from tether.accounts import services, throttle
from tether.accounts.forms import ChoosePasswordForm, PasswordResetEmailForm, ResetWithCodeForm
from tether.privacy.audit import client_address

_TOO_MANY_EMAILS = _(
    "You have asked for several reset links in a short time, so we are not sending "
    "another one now. Use the newest email you already got, or try again in "
    "%(minutes)s minutes. You can also use a reset code from the front desk."
)
_CODE_REJECTED = _(
    "That username and code don't work together. Check both and try again. "
    "If it still does not work, ask the front desk for a new code."
)


class PasswordResetRequestView(auth_views.PasswordResetView):
    form_class = PasswordResetEmailForm
    template_name = "accounts/password_reset_request.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        # Counted for every address, known or not, so the limit reveals no accounts.
        if not throttle.reset_email_allowed(
            email=form.cleaned_data["email"], client_address=client_address(self.request)
        ):
            form.add_error(
                None,
                _TOO_MANY_EMAILS % {"minutes": settings.TETHER_RESET_EMAIL_WINDOW_MINUTES},
            )
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        # Links are built from SITE_URL, never from the request's Host header.
        self.extra_email_context = {
            "site_url": settings.SITE_URL.rstrip("/"),
            "valid_minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
        }
        return super().form_valid(form)


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_sent.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["valid_minutes"] = settings.PASSWORD_RESET_TIMEOUT // 60
        return context


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = ChoosePasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
    post_reset_login = False

    # The base class types the form as Django's SetPasswordForm; ours is a subclass of it.
    def form_valid(self, form: ChoosePasswordForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_valid(form)
        services.lockout_clear(user=form.user)
        # The link reached them at this address: it is now proved to be theirs.
        services.email_verified(user=form.user)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@sensitive_post_parameters("code", "confirmation_code", "new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def reset_with_code(request: HttpRequest) -> HttpResponse:
    form = ResetWithCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.reset_code_redeem(
                username=data["username"],
                code=data["code"],
                password=data["new_password1"],
                confirmation_code=data["confirmation_code"],
            )
        except services.ResetCodeRejected:
            form.add_error(None, _CODE_REJECTED)
        except ValidationError as error:
            form.add_error("new_password1", error)
        else:
            return redirect("accounts:password_reset_complete")
    return render(request, "accounts/reset_code.html", {"form": form})
