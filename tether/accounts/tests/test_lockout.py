"""django-axes: sign-in pauses after 5 wrong passwords, per name and per address
(ASVS 6.3.1), without revealing whether an account exists."""

from __future__ import annotations

import datetime as dt
from typing import Any

from axes.models import AccessAttempt
from django.contrib.auth import get_user
from django.test import Client

from tether.accounts.tests.helpers import sign_in_with_password

PAUSED = "Sign-in is paused for now"


def _fail(client: Client, username: str, times: int = 5, *, address: str = "127.0.0.1") -> None:
    for _ in range(times):
        sign_in_with_password(client, username, "not the right password", address=address)


def _main(response: Any) -> str:
    body: str = response.content.decode()
    return body[body.index("<main") : body.index("</main>")]


def test_it_pauses_sign_in_after_five_wrong_passwords(cast, client):
    _fail(client, "maria.g")
    response = sign_in_with_password(client, "maria.g")  # now the right password

    assert response.status_code == 429
    body = response.content.decode()
    assert PAUSED in body
    assert "15 minutes" in body
    assert "maria.g" not in body
    assert not get_user(client).is_authenticated
    assert "crisis help" in body


def test_it_allows_four_wrong_passwords(cast, client):
    _fail(client, "maria.g", times=4)
    assert sign_in_with_password(client, "maria.g").status_code == 302


def test_it_pauses_a_name_whatever_the_address(cast, client):
    for index, typed in enumerate(["maria.g", "Maria.G", "MARIA.G", "mAria.g", " maria.G"]):
        sign_in_with_password(client, typed, "wrong", address=f"10.0.0.{index + 1}")
    response = sign_in_with_password(client, "maria.g", address="10.9.9.9")
    assert response.status_code == 429


def test_it_pauses_an_address_whatever_the_names(cast, client):
    for name in ("a.one", "b.two", "c.three", "d.four", "e.five"):
        sign_in_with_password(client, name, "wrong", address="10.3.3.3")
    assert sign_in_with_password(client, "maria.g", address="10.3.3.3").status_code == 429
    assert sign_in_with_password(client, "maria.g", address="10.4.4.4").status_code == 302


def test_it_gives_one_page_for_known_and_unknown_names(cast, client):
    _fail(client, "maria.g", address="10.5.5.1")
    known = sign_in_with_password(client, "maria.g", address="10.5.5.1")
    _fail(client, "nobody.at.all", address="10.5.5.2")
    unknown = sign_in_with_password(client, "nobody.at.all", address="10.5.5.2")

    assert known.status_code == unknown.status_code == 429
    assert _main(known) == _main(unknown)


def test_it_lets_people_try_again_after_the_pause(cast, client):
    _fail(client, "maria.g")
    AccessAttempt.objects.update(attempt_time=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    assert sign_in_with_password(client, "maria.g").status_code == 302
