from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from tether.accounts.tests.helpers import LOGIN_URL, sign_in_with_password
from tether.testing.cast import PASSWORD

SAME_ERROR = "That username and password don&#x27;t match."


def _signed_in_user_id(client: Client) -> str | None:
    user_id: str | None = client.session.get("_auth_user_id")
    return user_id


def test_it_shows_the_sign_in_form(db, client):
    response = client.get(LOGIN_URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'autocomplete="username"' in body
    assert 'autocomplete="current-password"' in body
    assert "Need help now?" in body  # the crisis bar is there before sign-in too


def test_it_signs_in_with_the_username(cast, client):
    response = sign_in_with_password(client, "maria.g")
    assert response.status_code == 302
    assert _signed_in_user_id(client) == str(cast.patient.pk)
    assert client.get(reverse("portal:home")).status_code == 200


def test_it_signs_in_with_the_email(cast, client):
    cast.patient.email = "maria.garcia@example.org"
    cast.patient.save(update_fields=["email"])
    response = sign_in_with_password(client, "Maria.Garcia@Example.ORG")
    assert response.status_code == 302
    assert _signed_in_user_id(client) == str(cast.patient.pk)


@pytest.mark.parametrize("typed", ["MARIA.G", "Maria.G", "  maria.g  "])
def test_it_ignores_case_and_spaces_in_the_username(cast, client, typed):
    response = sign_in_with_password(client, typed)
    assert response.status_code == 302
    assert _signed_in_user_id(client) == str(cast.patient.pk)


def test_it_starts_a_new_session_at_sign_in(cast, client):
    """ASVS 7.2.4: a session fixed before sign-in is not the one used after it."""
    session = client.session
    session["planted"] = "by someone else"
    session.save()
    before = session.session_key

    sign_in_with_password(client, "maria.g")

    after = client.session.session_key
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert _signed_in_user_id(client) == str(cast.patient.pk)


def test_it_gives_one_message_for_a_wrong_password_and_an_unknown_username(cast, client):
    wrong_password = sign_in_with_password(client, "maria.g", "not the password at all")
    unknown_user = sign_in_with_password(
        client, "nobody.here", "not the password at all", address="10.0.0.9"
    )
    assert wrong_password.status_code == unknown_user.status_code == 200
    assert SAME_ERROR in wrong_password.content.decode()
    assert SAME_ERROR in unknown_user.content.decode()
    assert _signed_in_user_id(client) is None


def test_it_keeps_the_typed_username_but_not_the_password(cast, client):
    body = sign_in_with_password(client, "maria.g", "wrong-secret-123").content.decode()
    assert 'value="maria.g"' in body
    assert "wrong-secret-123" not in body


def test_it_refuses_people_whose_account_is_switched_off(cast, client):
    cast.patient.is_active = False
    cast.patient.save(update_fields=["is_active"])
    response = sign_in_with_password(client, "maria.g", PASSWORD)
    assert response.status_code == 200
    assert SAME_ERROR in response.content.decode()
    assert _signed_in_user_id(client) is None


def test_it_sends_staff_to_the_two_step_check_after_the_password(cast, client):
    sign_in_with_password(client, "dana.clinician")
    response = client.get(reverse("staff:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:mfa_verify"))
