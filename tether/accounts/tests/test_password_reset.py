"""Forgotten password, by email link (Django's reset views with Tether's wording)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user
from django.core import mail
from django.urls import reverse

from tether.accounts.tests.helpers import register_newcomer, sign_in_with_password

URL = reverse("accounts:password_reset")
NEW_PASSWORD = "a brand new sentence to remember"


@pytest.fixture
def maria(cast):
    cast.patient.email = "maria.garcia@example.org"
    cast.patient.save(update_fields=["email"])
    return cast.patient


def _link_from(message: Any) -> str:
    match = re.search(r"https?://\S+/accounts/reset/link/\S+/", message.body)
    assert match, message.body
    return match.group(0)


def _path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_it_asks_for_an_email_address(db, client):
    body = client.get(URL).content.decode()
    assert 'type="email"' in body and 'autocomplete="email"' in body
    assert reverse("accounts:reset_code") in body  # the other way, for people without email


def test_it_emails_a_link_to_a_known_address(maria, client, settings):
    settings.SITE_URL = "https://tether.example.org"
    response = client.post(URL, {"email": "Maria.Garcia@Example.org"})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["maria.garcia@example.org"]
    assert message.subject == "Reset your Tether password"
    assert _link_from(message).startswith("https://tether.example.org/accounts/reset/link/")


def test_it_builds_the_link_from_the_site_address_not_the_request(maria, client, settings):
    settings.SITE_URL = "https://tether.example.org"
    settings.ALLOWED_HOSTS = ["tether.example.org", "evil.example"]
    client.post(URL, {"email": maria.email}, HTTP_HOST="evil.example")
    assert "evil.example" not in mail.outbox[0].body


def test_it_keeps_the_email_free_of_treatment_details(maria, client):
    """Someone else may read the inbox: the email must not reveal a treatment program."""
    client.post(URL, {"email": maria.email})
    text = f"{mail.outbox[0].subject} {mail.outbox[0].body}".lower()
    for word in ("riverbend", "iop", "program", "treatment", "garcia", "maria"):
        assert word not in text


def test_it_gives_the_same_answer_for_an_unknown_address(maria, client):
    known = client.post(URL, {"email": maria.email}, follow=True)
    unknown = client.post(URL, {"email": "nobody@example.org"}, follow=True)

    assert len(mail.outbox) == 1
    assert known.redirect_chain == unknown.redirect_chain
    assert known.content == unknown.content
    assert "If that email belongs to an account, we sent a link" in known.content.decode()


def test_it_sends_nothing_to_someone_who_has_not_set_a_password_yet(cast, client):
    register_newcomer(cast, email="rosa@example.org")
    client.post(URL, {"email": "rosa@example.org"})
    assert mail.outbox == []


def test_it_lets_the_person_choose_a_new_password_without_signing_them_in(maria, client):
    client.post(URL, {"email": maria.email})
    link_page = client.get(_path(_link_from(mail.outbox[0])), follow=True)
    assert "Choose a new password" in link_page.content.decode()
    set_password_url = link_page.redirect_chain[-1][0]
    assert "set-password" in set_password_url  # the token left the address bar

    response = client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_complete")
    maria.refresh_from_db()
    assert maria.check_password(NEW_PASSWORD)
    assert not get_user(client).is_authenticated
    done = client.get(response["Location"]).content.decode()
    assert "Password changed — sign in now" in done


def test_it_signs_the_person_out_everywhere_else(maria, client, client_as):
    from django.test import Client

    other_phone = Client()
    sign_in_with_password(other_phone, "maria.g")
    assert other_phone.get(reverse("portal:home")).status_code == 200

    client.post(URL, {"email": maria.email})
    set_password_url = client.get(_path(_link_from(mail.outbox[0])), follow=True).redirect_chain[
        -1
    ][0]
    client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    response = other_phone.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_it_applies_the_password_rules(maria, client):
    client.post(URL, {"email": maria.email})
    set_password_url = client.get(_path(_link_from(mail.outbox[0])), follow=True).redirect_chain[
        -1
    ][0]
    response = client.post(set_password_url, {"new_password1": "abc", "new_password2": "abc"})
    assert response.status_code == 200
    assert "This password is too short" in response.content.decode()
    maria.refresh_from_db()
    assert not maria.check_password("abc")


def test_it_refuses_a_link_used_before(maria, client):
    client.post(URL, {"email": maria.email})
    link = _path(_link_from(mail.outbox[0]))
    set_password_url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    again = client.get(link, follow=True).content.decode()
    assert "This reset link no longer works" in again
    assert 'name="new_password1"' not in again


def test_it_refuses_a_made_up_link(db, client):
    body = client.get(
        reverse("accounts:password_reset_confirm", args=["MQ", "abc-123"]), follow=True
    ).content.decode()
    assert "This reset link no longer works" in body
