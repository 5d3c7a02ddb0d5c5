"""Small helpers the accounts tests share."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.models import User
from tether.patients.models import LevelOfCare
from tether.patients.services import patient_register
from tether.testing.cast import PASSWORD, Cast

LOGIN_URL = reverse("accounts:login")


def current_code(device: TOTPDevice) -> str:
    """The code an authenticator app would show right now."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def sign_in_with_password(
    client: Client, username: str, password: str = PASSWORD, *, address: str = "127.0.0.1"
):
    return client.post(LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=address)


def register_newcomer(cast: Cast, *, email: str = "") -> User:
    """A patient just registered at intake: a login with no password yet."""
    patient = patient_register(
        registered_by=cast.front_desk.staff_member,
        program=cast.iop,
        first_name="Rosa",
        last_name="Diaz",
        preferred_name="Rosie",
        date_of_birth=dt.date(1988, 3, 2),
        record_number="MRN-NEW-1",
        mobile_phone="",
        email=email,
        level_of_care=LevelOfCare.IOP,
        admitted_on=timezone.localdate(),
        primary_therapist=cast.assigned_clinician.staff_member,
    )
    assert patient.user is not None
    return patient.user
