"""Accepting an invite link: choose a password, once, then land on the welcome page."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth import get_user
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tether.accounts.models import Invite, User
from tether.accounts.services import invite_create
from tether.accounts.tests.helpers import register_newcomer, sign_in_with_password

GOOD_PASSWORD = "purple river morning walk"  # long, all lowercase: no composition rules
NOT_WORKING = "This invite link no longer works. Ask the front desk for a new one."


@pytest.fixture
def newcomer(cast):
    return register_newcomer(cast)


@pytest.fixture
def token(cast, newcomer):
    return invite_create(user=newcomer, created_by=cast.front_desk).token


def _url(token: str) -> str:
    return reverse("accounts:invite", args=[token])


def _accept(
    client: Client, token: str, password: str = GOOD_PASSWORD, confirm: str | None = None
) -> Any:
    return client.post(
        _url(token),
        {"new_password1": password, "new_password2": password if confirm is None else confirm},
    )


def test_it_greets_the_person_and_shows_their_username(newcomer, token, client):
    response = client.get(_url(token))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Welcome, Rosie" in body  # the preferred name
    assert newcomer.username in body
    assert "write it down" in body
    assert "At least 8 characters. A short sentence is easy to remember." in body
    assert 'autocomplete="new-password"' in body
    assert "Need help now?" in body


def test_it_sets_the_password_signs_in_and_welcomes(newcomer, token, client):
    response = _accept(client, token)

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:welcome")
    newcomer.refresh_from_db()
    assert newcomer.check_password(GOOD_PASSWORD)
    assert Invite.objects.get(user=newcomer).used_at is not None
    assert get_user(client).pk == newcomer.pk
    assert "Welcome, Rosie" in client.get(reverse("portal:welcome")).content.decode()


def test_it_lets_the_person_sign_in_with_the_new_password_later(newcomer, token, client):
    _accept(client, token)
    client.post(reverse("accounts:logout"))
    response = sign_in_with_password(client, newcomer.username, GOOD_PASSWORD)
    assert response.status_code == 302
    assert get_user(client).pk == newcomer.pk


def test_it_works_only_once(newcomer, token, client):
    _accept(client, token)
    client.post(reverse("accounts:logout"))

    again = client.get(_url(token))
    assert again.status_code == 404
    assert NOT_WORKING in again.content.decode()

    reused = _accept(client, token, password="another long passphrase here")
    assert reused.status_code == 404
    newcomer.refresh_from_db()
    assert newcomer.check_password(GOOD_PASSWORD)


def test_it_refuses_an_expired_link(newcomer, token, client):
    Invite.objects.filter(user=newcomer).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    for response in (client.get(_url(token)), _accept(client, token)):
        assert response.status_code == 404
        body = response.content.decode()
        assert NOT_WORKING in body
        assert "Need help now?" in body  # the crisis bar still shows
        assert newcomer.username not in body
    newcomer.refresh_from_db()
    assert not newcomer.has_usable_password()


def test_it_refuses_a_made_up_link(newcomer, token, client):
    for forged in ("x" * 43, token[:-1] + ("A" if token[-1] != "A" else "B"), "a"):
        response = client.get(_url(forged))
        assert response.status_code == 404
        assert NOT_WORKING in response.content.decode()


def test_it_refuses_a_link_replaced_by_a_newer_one(cast, newcomer, token, client):
    newer = invite_create(user=newcomer, created_by=cast.front_desk).token

    old = client.get(_url(token))
    assert old.status_code == 404
    assert NOT_WORKING in old.content.decode()
    assert client.get(_url(newer)).status_code == 200


def _main(page: Any) -> str:
    body: str = page.content.decode()
    return body[body.index("<main") : body.index("</main>")]


def test_it_gives_the_same_page_for_every_link_that_does_not_work(cast, newcomer, token, client):
    other = User.objects.create_user(
        username="sam.o11", first_name="Sam", organization=cast.organization
    )
    expired = invite_create(user=other, created_by=cast.front_desk).token
    Invite.objects.filter(user=other).update(expires_at=timezone.now())
    cast.other_patient.set_unusable_password()  # invites are for a first password only
    cast.other_patient.save(update_fields=["password"])
    replaced = invite_create(user=cast.other_patient, created_by=cast.front_desk).token
    invite_create(user=cast.other_patient, created_by=cast.front_desk)
    _accept(client, token)
    client.post(reverse("accounts:logout"))

    pages = [client.get(_url(t)) for t in (expired, replaced, token, "not-a-real-token")]

    assert {page.status_code for page in pages} == {404}
    assert len({_main(page) for page in pages}) == 1


def test_it_refuses_a_link_for_an_account_that_was_switched_off(newcomer, token, client):
    newcomer.is_active = False
    newcomer.save(update_fields=["is_active"])
    assert client.get(_url(token)).status_code == 404


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "This password is too short. It must contain at least 8 characters."),
        ("password123", "This password is too common."),
        ("{username}", "The password is too similar to the username."),
    ],
)
def test_it_refuses_weak_passwords_and_says_why(newcomer, token, client, password, message):
    password = password.format(username=newcomer.username)
    response = _accept(client, token, password=password)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert not re.search(r'<input type="password"[^>]*value=', body)  # never sent back
    newcomer.refresh_from_db()
    assert not newcomer.has_usable_password()
    assert Invite.objects.get(user=newcomer).used_at is None
    assert "_auth_user_id" not in client.session


def test_it_accepts_a_long_all_lowercase_passphrase(newcomer, token, client):
    """ASVS 6.2.5: no rules about capitals, digits or symbols."""
    response = _accept(client, token, password="the kettle sings at dawn")
    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.check_password("the kettle sings at dawn")


def test_it_asks_again_when_the_two_passwords_differ(newcomer, token, client):
    response = _accept(client, token, confirm="purple river morning walks")
    assert response.status_code == 200
    body = response.content.decode()
    assert "The two passwords are not the same. Type them again." in body
    assert GOOD_PASSWORD not in body
    assert newcomer.username in body  # the page still tells them their username


def test_it_stores_the_password_with_argon2(newcomer, token, client, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    _accept(client, token)
    newcomer.refresh_from_db()
    assert newcomer.password.startswith("argon2$argon2id$")
    assert GOOD_PASSWORD not in newcomer.password
    assert newcomer.check_password(GOOD_PASSWORD)


def test_it_signs_out_whoever_was_signed_in_on_the_phone(cast, newcomer, token, client_as):
    client = client_as(cast.patient)  # a shared phone, someone else still signed in
    _accept(client, token)
    assert get_user(client).pk == newcomer.pk


def test_it_states_the_configured_minimum_length(token, client, settings):
    settings.AUTH_PASSWORD_VALIDATORS = [
        {
            "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
            "OPTIONS": {"min_length": 12},
        }
    ]
    body = client.get(_url(token)).content.decode()
    assert "At least 12 characters." in body
    assert "too short" in _accept(client, token, password="eleven char").content.decode()


def test_it_says_plainly_when_a_box_was_left_empty(token, client):
    body = _accept(client, token, password="").content.decode()
    assert "Choose a new password." in body
