"""The reader's language: chosen signed out (a cookie), saved on the account when
signed in, applied at sign-in on any device; the page says which language it is in."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from tether.accounts.models import User
from tether.accounts.tests.helpers import LOGIN_URL, sign_in_with_password
from tether.privacy.models import AuditEvent

SWITCH = reverse("accounts:language")


def test_it_offers_the_switch_while_signed_out(db, client):
    body = client.get(LOGIN_URL).content.decode()
    assert '<html lang="en' in body
    assert f'action="{SWITCH}"' in body
    assert 'value="es"' in body and 'lang="es">Español<' in body


def test_it_follows_the_browser_language_when_nothing_is_chosen(db, client):
    response = client.get(LOGIN_URL, headers={"accept-language": "es-MX,es;q=0.9"})
    assert '<html lang="es"' in response.content.decode()
    assert response["Content-Language"] == "es"


def test_it_switches_a_signed_out_visitor_with_a_cookie(db, client):
    response = client.post(SWITCH, {"language": "es", "next": "/crisis/"})
    assert response.status_code == 302
    assert response["Location"] == "/crisis/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert '<html lang="es"' in client.get(LOGIN_URL).content.decode()


def test_it_never_sends_a_visitor_off_site(db, client):
    response = client.post(SWITCH, {"language": "es", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_it_ignores_an_unknown_language(db, client):
    response = client.post(SWITCH, {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_it_saves_a_signed_in_patients_choice_with_an_audit_event(cast, client_as):
    client = client_as(cast.patient)
    client.post(SWITCH, {"language": "es", "next": reverse("portal:home")})
    cast.patient.refresh_from_db()
    assert cast.patient.language == "es"
    event = AuditEvent.objects.filter(object_type="accounts.user").order_by("-id").first()
    assert event is not None and event.patient_id == cast.patient.patient.pk
    assert '<html lang="es"' in client.get(reverse("portal:home")).content.decode()


def test_it_applies_the_accounts_language_at_sign_in_on_a_new_device(cast, client):
    User.objects.filter(pk=cast.patient.pk).update(language="es")
    response = sign_in_with_password(client, "maria.g")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    # Even a browser asking for English gets the account's Spanish.
    home = client.get(reverse("portal:home"), headers={"accept-language": "en"})
    assert '<html lang="es"' in home.content.decode()


def test_staff_pages_follow_the_staff_members_own_language(cast, client_as):
    User.objects.filter(pk=cast.patient.pk).update(language="es")
    User.objects.filter(pk=cast.assigned_clinician.pk).update(language="en")
    client = client_as(cast.assigned_clinician)
    response = client.get(reverse("staff:dashboard"), headers={"accept-language": "es"})
    body = response.content.decode()
    assert '<html lang="en' in body


def test_a_choice_made_before_signing_in_is_kept_on_the_account(cast, client):
    client.post(SWITCH, {"language": "es", "next": "/"})
    sign_in_with_password(client, "maria.g")
    cast.patient.refresh_from_db()
    assert cast.patient.language == "es"


def test_signing_in_never_overrides_a_language_already_chosen(cast, client):
    User.objects.filter(pk=cast.patient.pk).update(language="en")
    client.post(SWITCH, {"language": "es", "next": "/"})
    response = sign_in_with_password(client, "maria.g")
    cast.patient.refresh_from_db()
    assert cast.patient.language == "en"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
