from __future__ import annotations

from django.contrib.sessions.models import Session
from django.urls import reverse

URL = reverse("accounts:logout")


def test_it_only_signs_out_on_post(cast, client_as):
    client = client_as(cast.patient)
    assert client.get(URL).status_code == 405
    assert client.get(reverse("portal:home")).status_code == 200  # still signed in


def test_it_deletes_the_session_on_the_server(cast, client_as):
    """ASVS 7.4.1: the session ends on the server, not only in the browser."""
    client = client_as(cast.patient)
    session_key = client.session.session_key
    assert Session.objects.filter(session_key=session_key).exists()

    response = client.post(URL)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login") + "?reason=signed_out"
    assert not Session.objects.filter(session_key=session_key).exists()


def test_it_leaves_a_copied_session_cookie_useless(cast, client_as, client):
    client = client_as(cast.patient)
    stolen_key = client.session.session_key
    client.post(URL)

    client.cookies["sessionid"] = stolen_key
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_it_tells_the_person_they_are_signed_out(cast, client_as):
    client = client_as(cast.patient)
    body = client.post(URL, follow=True).content.decode()
    assert "You are signed out" in body
