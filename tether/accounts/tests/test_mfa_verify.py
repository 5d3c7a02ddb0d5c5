from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.models import User
from tether.accounts.tests.helpers import current_code

URL = reverse("accounts:mfa_verify")


def _password_only(client: Client, user: User) -> Client:
    client.force_login(user, backend="tether.accounts.backends.UsernameOrEmailBackend")
    return client


@pytest.fixture
def clinician(cast, client):
    return _password_only(client, cast.assigned_clinician)


@pytest.fixture
def device(cast):
    return TOTPDevice.objects.get(user=cast.assigned_clinician)


def test_it_asks_for_the_code(clinician):
    body = clinician.get(URL + "?next=/staff/").content.decode()
    assert 'inputmode="numeric"' in body and 'autocomplete="one-time-code"' in body
    assert 'name="next" value="/staff/"' in body
    assert "Lost your phone or the app?" in body


def test_it_lets_the_right_code_in_and_goes_to_next(clinician, device):
    key_before = clinician.session.session_key
    response = clinician.post(URL, {"code": current_code(device), "next": "/staff/"})
    assert response.status_code == 302
    assert response["Location"] == "/staff/"
    assert clinician.session.session_key != key_before  # a new session after the second step
    assert clinician.get(reverse("staff:dashboard")).status_code == 200


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/staff/", "javascript:alert(1)"]
)
def test_it_never_sends_people_to_another_site(clinician, device, next_url):
    response = clinician.post(URL, {"code": current_code(device), "next": next_url})
    assert response["Location"] == reverse("home")


def test_it_refuses_a_wrong_code_with_a_clear_message(clinician, device):
    wrong = f"{(int(current_code(device)) + 500_000) % 1_000_000:06d}"
    response = clinician.post(URL, {"code": wrong})
    assert response.status_code == 200
    assert "That code did not work" in response.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    assert clinician.get(reverse("staff:dashboard")).status_code == 302


def test_it_refuses_a_code_that_was_already_used(cast, client, device):
    """ASVS 6.5.1: a one-time code works once, even in a new session."""
    code = current_code(device)
    _password_only(client, cast.assigned_clinician)
    assert client.post(URL, {"code": code})["Location"] == reverse("home")
    client.post(reverse("accounts:logout"))

    _password_only(client, cast.assigned_clinician)
    response = client.post(URL, {"code": code})

    assert response.status_code == 200
    assert "That code did not work" in response.content.decode()
    assert client.get(reverse("staff:dashboard")).status_code == 302


def test_it_slows_down_guessing(clinician, device):
    device.throttling_failure_count = 6
    device.throttling_failure_timestamp = timezone.now()
    device.save()
    response = clinician.post(URL, {"code": current_code(device)})
    assert response.status_code == 200
    assert "Too many wrong codes in a row" in response.content.decode()
    assert clinician.get(reverse("staff:dashboard")).status_code == 302


def test_it_sends_people_already_past_the_check_on(cast, client_as):
    client = client_as(cast.assigned_clinician)
    response = client.get(URL + "?next=/staff/")
    assert response["Location"] == "/staff/"


def test_it_sends_staff_without_an_app_to_set_one_up(cast, client):
    TOTPDevice.objects.filter(user=cast.front_desk).delete()
    response = _password_only(client, cast.front_desk).get(URL)
    assert response["Location"] == reverse("accounts:mfa_setup")


def test_it_has_nothing_to_check_for_patients_without_an_app(cast, client_as):
    response = client_as(cast.patient).get(URL)
    assert response["Location"] == reverse("home")


def test_it_sends_anonymous_people_to_sign_in(db, client):
    response = client.get(URL)
    assert response["Location"].startswith(reverse("accounts:login"))
