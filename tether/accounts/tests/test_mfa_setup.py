from __future__ import annotations

import re
from base64 import b32encode

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.models import User
from tether.accounts.services import enrolment_link_create
from tether.accounts.tests.helpers import current_code

URL = reverse("accounts:mfa_setup")


@pytest.fixture
def newcomer_staff(cast, client):
    """A staff member signed in with the password, with no authenticator app yet."""
    TOTPDevice.objects.filter(user=cast.front_desk).delete()
    client.force_login(cast.front_desk, backend="tether.accounts.backends.UsernameOrEmailBackend")
    # Staff enrol only with a set-up link from a program admin (test_staff_enrolment.py).
    issued = enrolment_link_create(user=cast.front_desk, created_by=cast.program_admin)
    client.get(reverse("accounts:mfa_enrol", args=[issued.token]))
    return client


def _pending_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.get(user=user, confirmed=False)


def test_it_sends_anonymous_people_to_sign_in(db, client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_it_shows_a_qr_code_a_link_and_the_key_in_groups_of_four(cast, newcomer_staff):
    response = newcomer_staff.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    device = _pending_device(cast.front_desk)

    assert "<svg" in body and "<?xml" not in body
    assert "style=" not in body  # the CSP forbids inline styles
    assert 'href="otpauth://totp/Tether%3Afran.desk?' in body
    secret = b32encode(device.bin_key).decode()
    groups = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    assert groups in body
    assert re.search(r"^[A-Z2-7]{4}( [A-Z2-7]{4})+$", groups)


def test_it_asks_for_the_code_in_a_phone_friendly_box(cast, newcomer_staff):
    body = newcomer_staff.get(URL).content.decode()
    assert 'inputmode="numeric"' in body
    assert 'autocomplete="one-time-code"' in body
    assert '<label for="id_code">6-digit code from your app</label>' in body


def test_it_keeps_the_same_key_when_the_page_is_reloaded(cast, newcomer_staff):
    newcomer_staff.get(URL)
    newcomer_staff.get(URL)
    assert TOTPDevice.objects.filter(user=cast.front_desk).count() == 1


def test_it_turns_two_step_on_with_the_right_code(cast, newcomer_staff):
    newcomer_staff.get(URL)
    device = _pending_device(cast.front_desk)
    key_before = newcomer_staff.session.session_key

    response = newcomer_staff.post(URL, {"code": current_code(device)})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    device.refresh_from_db()
    assert device.confirmed
    assert newcomer_staff.session.session_key != key_before
    assert newcomer_staff.get(reverse("staff:dashboard")).status_code == 200


def test_it_accepts_a_code_typed_with_spaces(cast, newcomer_staff):
    newcomer_staff.get(URL)
    code = current_code(_pending_device(cast.front_desk))
    response = newcomer_staff.post(URL, {"code": f" {code[:3]} {code[3:]} "})
    assert response.status_code == 302
    assert TOTPDevice.objects.get(user=cast.front_desk).confirmed


def test_it_explains_a_wrong_code_and_stays_off(cast, newcomer_staff):
    newcomer_staff.get(URL)
    device = _pending_device(cast.front_desk)
    wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"

    response = newcomer_staff.post(URL, {"code": wrong})

    assert response.status_code == 200
    body = response.content.decode()
    assert "That code did not work" in body
    assert wrong not in body
    device.refresh_from_db()
    assert not device.confirmed
    assert newcomer_staff.get(reverse("staff:dashboard"))["Location"] == URL


def test_it_explains_a_code_that_is_not_six_numbers(cast, newcomer_staff):
    newcomer_staff.get(URL)
    body = newcomer_staff.post(URL, {"code": "12ab"}).content.decode()
    assert "The code is 6 numbers" in body
    assert 'aria-invalid="true"' in body


def test_it_goes_to_a_safe_next_page_afterwards(cast, newcomer_staff):
    newcomer_staff.get(URL)
    code = current_code(_pending_device(cast.front_desk))
    response = newcomer_staff.post(URL, {"code": code, "next": "/staff/patients/new/"})
    assert response["Location"] == "/staff/patients/new/"


def test_it_ignores_a_next_page_on_another_site(cast, newcomer_staff):
    newcomer_staff.get(URL)
    code = current_code(_pending_device(cast.front_desk))
    response = newcomer_staff.post(URL, {"code": code, "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")


def test_it_never_adds_a_second_app_without_the_first(cast, client):
    """Someone with only the password must not be able to enrol their own phone."""
    client.force_login(
        cast.assigned_clinician, backend="tether.accounts.backends.UsernameOrEmailBackend"
    )
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:mfa_verify"))
    assert not TOTPDevice.objects.filter(user=cast.assigned_clinician, confirmed=False).exists()


def test_it_says_so_when_two_step_is_already_on(cast, client_as):
    client = client_as(cast.assigned_clinician)
    response = client.get(URL, follow=True)
    assert "Two-step sign-in is already on" in response.content.decode()


def test_it_lets_patients_turn_it_on_from_their_home_page(cast, client_as):
    client = client_as(cast.patient)
    home = client.get(reverse("portal:home")).content.decode()
    assert "Make my account safer with two-step sign-in" in home
    assert f'href="{URL}"' in home

    page = client.get(URL)
    assert page.status_code == 200
    assert "Not now, go back" in page.content.decode()

    client.post(URL, {"code": current_code(_pending_device(cast.patient))})
    assert TOTPDevice.objects.get(user=cast.patient).confirmed
    home = client.get(reverse("portal:home")).content.decode()
    assert "Make my account safer" not in home


def test_it_shows_the_crisis_bar(cast, newcomer_staff):
    assert "Need help now?" in newcomer_staff.get(URL).content.decode()
