"""Reset-link emails are rate limited per address and per client, without revealing accounts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

URL = reverse("accounts:password_reset")
LIMITED = "several reset links in a short time"


@pytest.fixture
def maria(cast, settings):
    settings.TETHER_RESET_EMAIL_PER_ADDRESS = 3
    settings.TETHER_RESET_EMAIL_PER_CLIENT = 10
    cast.patient.email = "maria.garcia@example.org"
    cast.patient.save(update_fields=["email"])
    return cast.patient


def _ask(client: Client, email: str, address: str = "198.51.100.7") -> Any:
    return client.post(URL, {"email": email}, REMOTE_ADDR=address)


def test_it_sends_up_to_the_limit_then_stops(maria, client):
    for _ in range(3):
        assert _ask(client, maria.email).status_code == 302
    assert len(mail.outbox) == 3

    response = _ask(client, maria.email)
    assert response.status_code == 429
    assert LIMITED in response.content.decode()
    assert len(mail.outbox) == 3  # nothing more sent


def test_it_keeps_what_the_person_typed(maria, client):
    for _ in range(3):
        _ask(client, maria.email)
    body = _ask(client, maria.email).content.decode()
    assert 'value="maria.garcia@example.org"' in body


def test_it_counts_the_address_whatever_its_case(maria, client):
    for variant in (
        "maria.garcia@example.org",
        "Maria.Garcia@example.org",
        "MARIA.GARCIA@EXAMPLE.ORG",
    ):
        _ask(client, variant)
    assert _ask(client, "maria.garcia@Example.org").status_code == 429


def _page(response: HttpResponse, email: str) -> str:
    """The page as the person sees it, without their own email and the CSRF token."""
    body = response.content.decode().replace(email, "EMAIL")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)


def test_an_unknown_address_is_limited_exactly_like_a_known_one(maria, client):
    """No enumeration: same answers, same limit, whether or not the account exists."""
    known = [_ask(client, maria.email, address="198.51.100.1") for _ in range(4)]
    unknown = [_ask(client, "nobody@example.org", address="198.51.100.2") for _ in range(4)]
    assert [r.status_code for r in known] == [302, 302, 302, 429]
    assert [r.status_code for r in unknown] == [302, 302, 302, 429]
    assert _page(known[-1], maria.email) == _page(unknown[-1], "nobody@example.org")


def test_it_limits_one_client_asking_for_many_addresses(maria, client, settings):
    settings.TETHER_RESET_EMAIL_PER_CLIENT = 5
    for number in range(5):
        assert _ask(client, f"someone{number}@example.org").status_code == 302
    response = _ask(client, maria.email)
    assert response.status_code == 429
    assert mail.outbox == []  # the known address was not emailed either


def test_another_client_is_not_held_back_by_the_first(maria, client, settings):
    settings.TETHER_RESET_EMAIL_PER_CLIENT = 2
    for number in range(3):
        _ask(client, f"someone{number}@example.org", address="203.0.113.5")
    assert _ask(client, maria.email, address="203.0.113.9").status_code == 302
    assert len(mail.outbox) == 1


def test_invalid_input_is_not_counted(maria, client):
    for _ in range(5):
        assert client.post(URL, {"email": "not an email"}).status_code == 200
    assert _ask(client, maria.email).status_code == 302
