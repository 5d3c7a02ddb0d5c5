"""Forgotten password, by a code the front desk hands over in person."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth import get_user
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tether.accounts.models import ResetCode
from tether.accounts.services import reset_code_issue
from tether.accounts.tests.helpers import sign_in_with_password
from tether.testing.cast import PASSWORD

URL = reverse("accounts:reset_code")
NEW_PASSWORD = "my dog likes long walks"
REJECTED = "That username and code don&#x27;t work together."


@pytest.fixture
def issued(cast):
    return reset_code_issue(
        user=cast.patient,
        created_by=cast.front_desk,
        confirmation=ResetCode.Confirmation.IN_PERSON,
        identity_document="state_id",
    )


def _redeem(
    client: Client,
    code: str,
    *,
    username: str = "maria.g",
    password: str = NEW_PASSWORD,
    confirm: str | None = None,
) -> Any:
    return client.post(
        URL,
        {
            "username": username,
            "code": code,
            "new_password1": password,
            "new_password2": password if confirm is None else confirm,
        },
    )


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 100_000_000:08d}"


def test_it_shows_a_phone_friendly_form(db, client):
    body = client.get(URL).content.decode()
    assert 'inputmode="numeric"' in body
    assert 'autocomplete="username"' in body
    assert 'autocomplete="new-password"' in body
    assert "Need help now?" in body


@pytest.mark.parametrize("typed", ["{a}{b}", "{a} {b}", "{a}-{b}", " {a} - {b} "])
def test_it_changes_the_password_with_the_code(cast, issued, client, typed):
    code = typed.format(a=issued.code[:4], b=issued.code[4:])
    response = _redeem(client, code)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_complete")
    cast.patient.refresh_from_db()
    assert cast.patient.check_password(NEW_PASSWORD)
    assert ResetCode.objects.get(pk=issued.reset_code.pk).used_at is not None
    assert not get_user(client).is_authenticated  # no automatic sign-in
    assert "Password changed — sign in now" in client.get(response["Location"]).content.decode()


def test_it_accepts_the_username_in_any_case(cast, issued, client):
    assert _redeem(client, issued.code, username=" Maria.G ").status_code == 302


def test_it_signs_the_person_out_everywhere_else(cast, issued, client):
    other_phone = Client()
    sign_in_with_password(other_phone, "maria.g")
    assert other_phone.get(reverse("portal:home")).status_code == 200

    _redeem(client, issued.code)

    response = other_phone.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_it_works_only_once(cast, issued, client):
    _redeem(client, issued.code)
    response = _redeem(client, issued.code, password="yet another long sentence")
    assert response.status_code == 200
    assert REJECTED in response.content.decode()
    cast.patient.refresh_from_db()
    assert cast.patient.check_password(NEW_PASSWORD)


def test_it_refuses_an_expired_code(cast, issued, client):
    ResetCode.objects.filter(pk=issued.reset_code.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    response = _redeem(client, issued.code)
    assert REJECTED in response.content.decode()
    cast.patient.refresh_from_db()
    assert cast.patient.check_password(PASSWORD)


def test_it_stops_the_code_after_five_wrong_tries(cast, issued, client):
    for _ in range(5):
        response = _redeem(client, _wrong(issued.code))
        assert REJECTED in response.content.decode()

    response = _redeem(client, issued.code)

    assert REJECTED in response.content.decode()
    assert ResetCode.objects.get(pk=issued.reset_code.pk).failed_attempts == 5
    cast.patient.refresh_from_db()
    assert cast.patient.check_password(PASSWORD)


def test_it_still_works_after_four_wrong_tries(cast, issued, client):
    for _ in range(4):
        _redeem(client, _wrong(issued.code))
    assert _redeem(client, issued.code).status_code == 302


def test_it_refuses_an_older_code_once_a_new_one_is_given(cast, issued, client):
    reset_code_issue(
        user=cast.patient,
        created_by=cast.front_desk,
        confirmation=ResetCode.Confirmation.IN_PERSON,
        identity_document="passport",
    )
    assert REJECTED in _redeem(client, issued.code).content.decode()


def test_it_never_says_which_part_was_wrong(cast, issued, client):
    """Unknown username, wrong code, someone else's code: one message, one page."""
    other = reset_code_issue(
        user=cast.other_patient,
        created_by=cast.front_desk,
        confirmation=ResetCode.Confirmation.IN_PERSON,
        identity_document="passport",
    )
    pages = [
        _redeem(client, issued.code, username="no.such.person"),
        _redeem(client, _wrong(issued.code)),
        _redeem(client, other.code),  # tom's code with maria's username
    ]
    bodies = {
        re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page.content.decode())
        for page in pages
    }
    assert {page.status_code for page in pages} == {200}
    assert all(REJECTED in body for body in bodies)
    assert len({b.replace("no.such.person", "maria.g") for b in bodies}) == 1


def test_it_keeps_the_username_but_never_the_code_or_passwords(cast, issued, client):
    wrong = _wrong(issued.code)
    body = _redeem(client, wrong).content.decode()
    assert 'value="maria.g"' in body
    assert wrong not in body
    assert NEW_PASSWORD not in body


def test_it_explains_a_code_with_the_wrong_number_of_digits(cast, issued, client):
    body = _redeem(client, issued.code[:7]).content.decode()
    assert "The code is 8 numbers" in body
    assert ResetCode.objects.get(pk=issued.reset_code.pk).failed_attempts == 0


def test_it_keeps_the_code_when_the_new_password_is_too_weak(cast, issued, client):
    response = _redeem(client, issued.code, password="password")
    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()
    code = ResetCode.objects.get(pk=issued.reset_code.pk)
    assert code.used_at is None and code.failed_attempts == 0
    assert _redeem(client, issued.code).status_code == 302


def test_it_asks_again_when_the_two_passwords_differ(cast, issued, client):
    body = _redeem(client, issued.code, confirm="something else entirely").content.decode()
    assert "The two passwords are not the same" in body
    assert ResetCode.objects.get(pk=issued.reset_code.pk).used_at is None


def test_it_lifts_a_sign_in_pause_on_the_name(cast, issued, client):
    for _ in range(5):
        sign_in_with_password(client, "Maria.G", "wrong guess", address="10.1.1.1")
    assert sign_in_with_password(client, "maria.g", address="10.2.2.2").status_code == 429

    _redeem(client, issued.code)

    response = sign_in_with_password(Client(), "maria.g", NEW_PASSWORD, address="10.2.2.2")
    assert response.status_code == 302
