"""StaffMFAMiddleware: staff pass a TOTP check before anything else; patients who
turned two-step sign-in on must pass it too."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.models import User
from tether.accounts.tests.helpers import current_code, sign_in_with_password


def _password_only(client: Client, user: User) -> Client:
    """Signed in with the password, the second step not yet passed."""
    client.force_login(user, backend="tether.accounts.backends.UsernameOrEmailBackend")
    return client


def test_it_sends_staff_without_an_app_to_set_one_up(cast, client):
    TOTPDevice.objects.filter(user=cast.front_desk).delete()
    response = _password_only(client, cast.front_desk).get(reverse("staff:dashboard"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:mfa_setup")


def test_it_sends_staff_with_an_app_to_the_code_check(cast, client):
    response = _password_only(client, cast.assigned_clinician).get(reverse("staff:dashboard"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:mfa_verify") + "?next=%2Fstaff%2F"


def test_it_keeps_patient_data_away_until_the_code_is_typed(cast, client):
    client = _password_only(client, cast.assigned_clinician)
    patient_url = reverse("staff:patient_detail", args=[cast.patient.patient.pk])
    response = client.get(patient_url)
    assert response.status_code == 302
    assert "Garcia" not in response.content.decode()


def test_it_keeps_the_crisis_page_reachable_before_the_code(cast, client):
    TOTPDevice.objects.filter(user=cast.on_call).delete()
    response = _password_only(client, cast.on_call).get(reverse("crisis:crisis"))
    assert response.status_code == 200


def test_it_lets_staff_sign_out_before_the_code(cast, client):
    client = _password_only(client, cast.assigned_clinician)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_it_lets_staff_in_once_the_code_is_typed(cast, client):
    client = _password_only(client, cast.assigned_clinician)
    device = TOTPDevice.objects.get(user=cast.assigned_clinician)
    response = client.post(
        reverse("accounts:mfa_verify"), {"code": current_code(device), "next": "/staff/"}
    )
    assert response["Location"] == "/staff/"
    assert client.get(reverse("staff:dashboard")).status_code == 200


def test_it_does_not_ask_patients_without_an_app(cast, client):
    sign_in_with_password(client, "maria.g")
    assert client.get(reverse("portal:home")).status_code == 200


def test_it_asks_patients_who_turned_it_on_after_the_password(cast, client):
    device = TOTPDevice.objects.create(user=cast.patient, name="Phone", confirmed=True)
    sign_in_with_password(client, "maria.g")

    response = client.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:mfa_verify"))

    client.post(reverse("accounts:mfa_verify"), {"code": current_code(device)})
    assert client.get(reverse("portal:home")).status_code == 200


def test_it_ignores_an_unconfirmed_app_for_patients(cast, client):
    TOTPDevice.objects.create(user=cast.patient, name="Half set up", confirmed=False)
    sign_in_with_password(client, "maria.g")
    assert client.get(reverse("portal:home")).status_code == 200


def test_it_lets_staff_in_without_an_app_when_the_setting_is_off(cast, client, settings):
    settings.TETHER_STAFF_MFA_REQUIRED = False
    TOTPDevice.objects.filter(user=cast.front_desk).delete()
    response = _password_only(client, cast.front_desk).get(reverse("staff:dashboard"))
    assert response.status_code == 200


def test_an_app_turned_on_in_another_session_is_asked_for_at_the_next_page(cast, client):
    # The device is read with the user on every request (UsernameOrEmailBackend.get_user),
    # not remembered between requests.
    sign_in_with_password(client, "maria.g")
    assert client.get(reverse("portal:home")).status_code == 200
    TOTPDevice.objects.create(user=cast.patient, name="Phone", confirmed=True)
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:mfa_verify"))
