"""Sign in, sign out, and the page shown when sign-in is paused."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tether.accounts import language, lockout
from tether.accounts.forms import SignInForm
from tether.accounts.models import User
from tether.accounts.services import user_language_set
from tether.consent import shared_device


class SignInView(LoginView):
    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["timed_out"] = self.request.GET.get("reason") == "timeout"
        context["signed_out"] = self.request.GET.get("reason") == "signed_out"
        return context

    def get_initial(self) -> dict[str, Any]:
        # A device already marked shared offers the quick view again.
        return {**super().get_initial(), "quick_view": shared_device.is_shared(self.request)}

    def form_valid(self, form: SignInForm) -> HttpResponse:  # type: ignore[override]
        response = self._signed_in(form)
        user = form.get_user()
        chosen = self.request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if isinstance(user, User) and not user.language and chosen in User.Language.values:
            # Chosen with the switch before signing in: kept on the account from now on.
            user_language_set(request=self.request, user=user, language=chosen)
        if getattr(user, "language", ""):
            # The account's language from now on, on this device, signed in or out.
            language.remember(response, user.language)
        return response

    def _signed_in(self, form: SignInForm) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        if not getattr(user, "is_patient", False):
            return response
        if form.cleaned_data.get("quick_view"):
            # Straight into the quick view: anything clinical needs the fresh full
            # sign-in (and the Part 2 step), as when the device is marked at /me/device/.
            self.request.session.pop(shared_device.FULL_VIEW, None)
            self.request.session.pop(shared_device.PART2_SHOWN, None)
            response = redirect("consent:quick_view")
            shared_device.mark(response, shared=True)
        elif shared_device.is_shared(self.request):
            # Unticked on a device that was marked shared: the patient, signed in with
            # their password, says it is not shared any more (as at /me/device/).
            shared_device.mark(response, shared=False)
        return response


@require_POST
def sign_out(request: HttpRequest) -> HttpResponseRedirect:
    """Ends the session on the server (ASVS 7.4.1), not just in the browser."""
    logout(request)  # flushes the session row and rotates the CSRF token
    response = redirect(reverse("accounts:login") + "?reason=signed_out")
    # Removes the opt-in offline safety plan (and service worker) from this device.
    response["Clear-Site-Data"] = '"cache", "storage"'
    return response


def locked_out(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """Shown by django-axes after too many failed sign-ins (ASVS 6.3.1), and by the
    address limit (tether/accounts/lockout.py)."""
    if getattr(request, "tether_address_paused", False):
        minutes = settings.TETHER_LOGIN_ADDRESS_WINDOW_MINUTES
    else:
        minutes = lockout.pause_minutes(request)
    return render(request, "accounts/locked_out.html", {"minutes": minutes}, status=429)


def session_timed_out(request: HttpRequest) -> HttpResponseRedirect:
    messages.info(
        request, _("You were signed out after a period of inactivity, to protect your privacy.")
    )
    return redirect(reverse("accounts:login") + "?reason=timeout")
