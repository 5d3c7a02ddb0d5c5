"""Issue 13, finding 7: every response carries Cross-Origin-Resource-Policy and a
restrictive Permissions-Policy, and names no server software."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tether.lib.middleware import PERMISSIONS_POLICY


@pytest.mark.parametrize(
    "path",
    [
        reverse("crisis:crisis"),
        reverse("accounts:login"),
        "/no-such-page/",
    ],
)
def test_every_response_has_the_cross_origin_and_permissions_headers(db, client, path):
    response = client.get(path)
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    policy = response["Permissions-Policy"]
    assert policy == PERMISSIONS_POLICY
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in policy
    assert "Server" not in response


def test_signed_in_pages_have_them_too(cast, client_as):
    response = client_as(cast.patient).get(reverse("portal:home"))
    assert response.status_code == 200
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY


def test_a_redirect_has_them_too(db, client):
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "Permissions-Policy" in response
