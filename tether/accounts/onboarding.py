"""Invite links for new patients: open the link, see your username, choose a password.

The raw token is only ever in the link; the database keeps its keyed hash. Any
link that does not work (expired, used, replaced by a newer one, or made up) gets
the same page, so a link reveals nothing about the account behind it.
"""

from __future__ import annotations

from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from tether.accounts import services
from tether.accounts.forms import ChoosePasswordForm
from tether.accounts.models import User
from tether.patients.models import Patient

SIGN_IN_BACKEND = "tether.accounts.backends.UsernameOrEmailBackend"


def _link_not_working(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/invite_invalid.html", status=404)


def _greeting_name(user: User) -> str:
    try:
        return user.patient.friendly_name
    except Patient.DoesNotExist:
        return user.first_name


@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def accept_invite(request: HttpRequest, token: str) -> HttpResponse:
    invite = services.invite_find_usable(token=token)
    # An invite sets a first password only; an account in use is never handed over here.
    if invite is None or not invite.user.is_active or services.account_in_use(invite.user):
        return _link_not_working(request)
    user = invite.user

    form = ChoosePasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invite_accept(
                invite=invite, password=form.cleaned_data["new_password1"]
            )
        except services.InviteNotUsable:
            return _link_not_working(request)
        except ValidationError as error:  # the form checks the same rules; kept for safety
            form.add_error("new_password2", error)
        else:
            login(request, user, backend=SIGN_IN_BACKEND)
            return redirect("portal:welcome" if user.is_patient else "home")

    return render(
        request,
        "accounts/invite_accept.html",
        {"form": form, "name": _greeting_name(user), "username": user.get_username()},
    )
