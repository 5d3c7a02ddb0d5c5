from __future__ import annotations

import pytest
from django.test import Client

from tether.testing.cast import Cast, build_cast, sign_in


@pytest.fixture
def cast(db: None) -> Cast:
    return build_cast()


@pytest.fixture
def client_as(client: Client):
    """``client_as(user)``: the test client, signed in as that person."""

    def _client_as(user):
        client.logout()
        return sign_in(client, user)

    return _client_as


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 is deliberately slow; tests that check hashing itself opt back in.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
