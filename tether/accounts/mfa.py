"""Two-step sign-in with an authenticator app (TOTP).

Staff must set it up (``StaffMFAMiddleware`` sends them here); patients may turn it
on from their home page. Once a person has a confirmed device, every sign-in asks
for a code (ASVS 6.3.3), and a code works only once (ASVS 6.5.1: django-otp keeps
the last accepted time step, ``last_t``, and refuses anything not newer).
"""

from __future__ import annotations

import logging
from base64 import b32encode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts import services
from tether.accounts.forms import OneTimeCodeForm
from tether.accounts.models import User
from tether.lib.qr import qr_svg

# The set-up link this session opened (a staff member may enrol an app only with one).
SESSION_ENROLMENT_LINK = "tether_enrolment_link"

DEVICE_NAME = "Authenticator app"

# Two-step events are logged by user id only, never with codes or keys.
logger = logging.getLogger("tether.accounts")

_WRONG_CODE = gettext_lazy(
    "That code did not work. Codes change every 30 seconds: type the newest one your app shows."
)
_THROTTLED = gettext_lazy(
    "Too many wrong codes in a row. Wait one minute, then type the newest code."
)


def _safe_next(request: HttpRequest) -> str:
    """Where to go afterwards: ``next`` if it points to this site, otherwise home."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("home")


def _next_query(next_url: str) -> str:
    return "?" + urlencode({"next": next_url}) if next_url != reverse("home") else ""


def _signed_in_user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # login_required ran first; this only narrows the type
        raise PermissionDenied
    return user


def _secret_groups(device: TOTPDevice) -> str:
    """The secret as an authenticator app wants it typed: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _login_with_device(request: HttpRequest, device: TOTPDevice) -> None:
    # A new session key once the second step is passed, as after the password (ASVS 7.2.4).
    request.session.cycle_key()
    otp_login(request, device)


@sensitive_post_parameters("code")
@login_required
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    user = _signed_in_user(request)
    next_url = _safe_next(request)
    if TOTPDevice.objects.devices_for_user(user, confirmed=True).exists():
        if user.is_verified():  # type: ignore[attr-defined]  # added by OTPMiddleware
            messages.info(request, _("Two-step sign-in is already on for your account."))
            return redirect(next_url)
        # Adding an app needs the app already set up: a stolen password alone must
        # never be enough to enrol someone else's phone.
        return redirect(reverse("accounts:mfa_verify") + _next_query(next_url))

    # Staff enrol an app only with a set-up link from a program admin, opened in this
    # session: whoever first signs in with the password alone must never bind their own
    # phone to the account.
    link_id = request.session.get(SESSION_ENROLMENT_LINK)
    if user.is_staff_member and (
        link_id is None or not services.enrolment_link_usable(link_id=int(link_id), user=user)
    ):
        TOTPDevice.objects.devices_for_user(user, confirmed=False).delete()
        return render(request, "accounts/mfa_need_link.html", {"next": next_url})

    # Reuse the device shown before, so reloading the page keeps the code already scanned.
    pending = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("pk")
    device = pending.first() or TOTPDevice.objects.create(
        user=user, name=DEVICE_NAME, confirmed=False
    )
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            locked = TOTPDevice.objects.select_for_update(no_key=True).get(pk=device.pk)
            allowed, _details = locked.verify_is_allowed()
            confirmed = allowed and locked.verify_token(form.cleaned_data["code"])
            if confirmed and user.is_staff_member and link_id is not None:
                confirmed = services.enrolment_link_use(link_id=int(link_id), user=user)
            if confirmed:
                locked.confirmed = True
                locked.save(update_fields=["confirmed"])
                TOTPDevice.objects.devices_for_user(user, confirmed=False).delete()
        if confirmed:
            request.session.pop(SESSION_ENROLMENT_LINK, None)
            logger.info("two-step sign-in turned on: user=%s", user.pk)
            _login_with_device(request, locked)
            messages.success(
                request,
                _(
                    "Two-step sign-in is on. Each time you sign in, you will type a code from your app."
                ),
            )
            return redirect(next_url)
        logger.info("two-step set-up code refused: user=%s", user.pk)
        form.add_error("code", _WRONG_CODE if allowed else _THROTTLED)

    provisioning_uri = device.config_url
    return render(
        request,
        "accounts/mfa_setup.html",
        {
            "form": form,
            "next": next_url,
            "qr_svg": qr_svg(provisioning_uri),
            "provisioning_uri": provisioning_uri,
            "secret_groups": _secret_groups(device),
            "required": user.is_staff_member,
        },
    )


@sensitive_post_parameters("code")
@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    user = _signed_in_user(request)
    next_url = _safe_next(request)
    if user.is_verified():  # type: ignore[attr-defined]  # added by OTPMiddleware
        return redirect(next_url)
    devices = list(TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk"))
    if not devices:
        if user.is_staff_member:
            return redirect(reverse("accounts:mfa_setup") + _next_query(next_url))
        return redirect(next_url)

    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Each device is checked in its own locked transaction (django-otp's verify_token),
        # so its throttling and replay protection hold under concurrent requests.
        if all(not device.verify_is_allowed()[0] for device in devices):
            logger.info("two-step code refused, too many tries: user=%s", user.pk)
            form.add_error("code", _THROTTLED)
        else:
            for device in devices:
                verified = verify_token(user, device.persistent_id, form.cleaned_data["code"])
                if verified is not None:
                    _login_with_device(request, verified)
                    return redirect(next_url)
            logger.info("two-step code refused: user=%s", user.pk)
            form.add_error("code", _WRONG_CODE)

    return render(
        request,
        "accounts/mfa_verify.html",
        {"form": form, "next": next_url, "is_staff_member": user.is_staff_member},
    )


@login_required
@require_http_methods(["GET"])
def enrol(request: HttpRequest, token: str) -> HttpResponse:
    """A staff member's set-up link: after signing in with their password, it lets this
    session set up an authenticator app once. Any link that does not work (someone
    else's, expired, used, replaced, made up) gets the same 404 page."""
    user = _signed_in_user(request)
    link = services.enrolment_link_find(token=token, user=user)
    if link is None:
        logger.info("staff set-up link refused: user=%s", user.pk)
        return render(request, "accounts/mfa_link_invalid.html", status=404)
    request.session[SESSION_ENROLMENT_LINK] = link.pk
    return redirect("accounts:mfa_setup")
