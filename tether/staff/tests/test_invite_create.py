from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tether.accounts.models import Invite
from tether.privacy.models import AuditEvent


@pytest.fixture
def maria(cast):
    """Maria registered at intake but has not chosen a password yet."""
    cast.patient.set_unusable_password()
    cast.patient.save(update_fields=["password"])
    return cast.patient.patient


def _url(patient) -> str:
    return reverse("staff:invite_create", args=[patient.pk])


def _invite_link(body: str) -> str:
    match = re.search(r'<p class="invite-link">([^<]+)</p>', body)
    assert match, body
    return match.group(1)


def test_it_shows_a_qr_code_and_a_link_once(cast, client_as, maria, settings):
    settings.SITE_URL = "https://tether.example.org"
    response = client_as(cast.front_desk).post(_url(maria))

    assert response.status_code == 200
    body = response.content.decode()
    assert '<div class="qr" role="img"' in body
    assert "<svg" in body and "<path" in body
    assert "<?xml" not in body  # an XML declaration has no place inside an HTML page
    assert "style=" not in body  # the CSP forbids inline styles
    link = _invite_link(body)
    assert link.startswith("https://tether.example.org/accounts/invite/")
    assert "maria.g" in body
    assert Invite.objects.filter(user=cast.patient, used_at__isnull=True).count() == 1


def test_it_makes_a_link_the_patient_can_open(cast, client_as, maria, client):
    body = client_as(cast.front_desk).post(_url(maria)).content.decode()
    path = "/" + _invite_link(body).split("/", 3)[3]
    client.post(reverse("accounts:logout"))

    page = client.get(path)
    assert page.status_code == 200
    assert "Your username is" in page.content.decode()


def test_it_stops_the_older_link_when_a_new_one_is_made(cast, client_as, maria, client):
    desk = client_as(cast.front_desk)
    first = _invite_link(desk.post(_url(maria)).content.decode())
    second = _invite_link(desk.post(_url(maria)).content.decode())
    client.post(reverse("accounts:logout"))

    assert client.get("/" + first.split("/", 3)[3]).status_code == 404
    assert client.get("/" + second.split("/", 3)[3]).status_code == 200


def test_it_never_stores_the_link_in_clear(cast, client_as, maria):
    body = client_as(cast.front_desk).post(_url(maria)).content.decode()
    token = _invite_link(body).rstrip("/").rsplit("/", 1)[1]
    invite = Invite.objects.get(user=cast.patient)
    assert token not in invite.token_hash


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("front_desk", 200),
        ("assigned_clinician", 200),
        ("clinical_lead", 200),
        ("unassigned_clinician", 404),
        ("other_org_clinician", 404),
        ("program_admin", 404),  # reads the program, does not register patients' logins
        ("privacy_officer", 404),
        ("patient", 404),
        ("parent", 404),
    ],
)
def test_it_checks_access(cast, client_as, maria, persona, status):
    response = client_as(getattr(cast, persona)).post(_url(maria))
    assert response.status_code == status
    assert Invite.objects.filter(user=cast.patient).exists() == (status == 200)


def test_it_records_a_refused_attempt(cast, client_as, maria):
    client_as(cast.unassigned_clinician).post(_url(maria))
    assert AuditEvent.objects.filter(
        actor=cast.unassigned_clinician, patient=maria, outcome=AuditEvent.Outcome.DENIED
    ).exists()


def test_it_only_creates_invites_on_post(cast, client_as, maria):
    assert client_as(cast.front_desk).get(_url(maria)).status_code == 405
    assert not Invite.objects.exists()


def test_it_redirects_anonymous_people_to_sign_in(cast, client, maria):
    response = client.post(_url(maria))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_it_is_never_cached(cast, client_as, maria):
    response = client_as(cast.front_desk).post(_url(maria))
    assert "no-store" in response["Cache-Control"]
