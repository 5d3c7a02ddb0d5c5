"""Sign-in pauses (ASVS 6.3.1, tether/accounts/lockout.py): an account pauses after 5
wrong passwords from anywhere, for a short cool-off that grows; an address only after
many failures across names; never revealing whether an account exists."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from tether.accounts.addresses import client_address
from tether.accounts.tests.helpers import LOGIN_URL, sign_in_with_password
from tether.privacy.models import AuditEvent
from tether.testing.cast import PASSWORD

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
    assert "5 minutes" in body
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


# --- Issue 12 item 7 / issue 13 item 5: lock the account, not the waiting room -------------

WAITING_ROOM = "192.0.2.50"  # one clinic Wi-Fi, one public address


def test_a_waiting_room_on_one_address_is_not_locked_out(cast, client):
    # Twenty patients behind one address each mistype once or twice.
    for number in range(20):
        name = f"patient.{number}"
        sign_in_with_password(client, name, "typo", address=WAITING_ROOM)
        if number % 2:
            sign_in_with_password(client, name, "typo again", address=WAITING_ROOM)
    # Maria mistypes twice too, and then signs in from the same Wi-Fi.
    _fail(client, "maria.g", times=2, address=WAITING_ROOM)
    assert sign_in_with_password(client, "maria.g", address=WAITING_ROOM).status_code == 302
    # The front desk and on-call, on the same network, are not paused either.
    assert sign_in_with_password(Client(), "omar.oncall", address=WAITING_ROOM).status_code == 302


def test_one_name_failing_is_paused_from_every_address_and_no_one_else_is(cast, client):
    for index in range(5):
        sign_in_with_password(client, "tom.b", "wrong", address=f"198.51.100.{index + 1}")
    assert sign_in_with_password(client, "tom.b", address="203.0.113.77").status_code == 429
    # The addresses those tries came from are not paused for anyone else.
    assert sign_in_with_password(Client(), "maria.g", address="198.51.100.1").status_code == 302


@override_settings(TETHER_LOGIN_ADDRESS_FAILURE_LIMIT=12)
def test_an_address_spraying_many_names_is_paused_loosely(cast, client):
    for number in range(12):
        sign_in_with_password(client, f"guess.{number}", "wrong", address="203.0.113.5")
    response = sign_in_with_password(client, "maria.g", address="203.0.113.5")
    assert response.status_code == 429
    assert PAUSED in response.content.decode()
    assert sign_in_with_password(Client(), "maria.g", address="203.0.113.6").status_code == 302


PROXY = "10.0.0.2"


def _via_proxy(client: Client, username: str, password: str, *, forwarded: str) -> Any:
    return client.post(
        LOGIN_URL,
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


@override_settings(
    AXES_IPWARE_PROXY_COUNT=1,
    TETHER_TRUSTED_PROXIES=[f"{PROXY}/32"],
    TETHER_LOGIN_ADDRESS_FAILURE_LIMIT=12,
)
def test_behind_the_trusted_proxy_each_client_is_counted_by_its_own_address(cast, client):
    # One client behind the proxy sprays names (and writes its own X-Forwarded-For entry,
    # which the proxy keeps to the left of the address it saw).
    for number in range(12):
        _via_proxy(client, f"guess.{number}", "wrong", forwarded=f"1.2.3.{number}, 198.51.100.7")
    paused = _via_proxy(client, "maria.g", PASSWORD, forwarded="198.51.100.7")
    assert paused.status_code == 429
    # Everyone else behind the same proxy signs in.
    other = _via_proxy(Client(), "maria.g", PASSWORD, forwarded="198.51.100.8")
    assert other.status_code == 302
    assert client_address(_request(PROXY, "9.9.9.9, 198.51.100.7")) == "198.51.100.7"


@override_settings(
    AXES_IPWARE_PROXY_COUNT=1,
    TETHER_TRUSTED_PROXIES=[f"{PROXY}/32"],
    TETHER_LOGIN_ADDRESS_FAILURE_LIMIT=12,
)
def test_a_forwarded_header_from_an_untrusted_client_is_ignored(cast, client):
    attacker = "203.0.113.66"  # reaches the server directly, not through the proxy
    for number in range(12):
        client.post(
            LOGIN_URL,
            {"username": f"guess.{number}", "password": "wrong"},
            REMOTE_ADDR=attacker,
            HTTP_X_FORWARDED_FOR=f"198.51.100.{number}",
        )
    # Counted by the address it really came from, whatever it wrote...
    assert sign_in_with_password(Client(), "maria.g", address=attacker).status_code == 429
    # ... and never against the addresses it named.
    assert _via_proxy(Client(), "maria.g", PASSWORD, forwarded="198.51.100.3").status_code == 302
    assert client_address(_request(attacker, "198.51.100.3")) == attacker


def _request(remote: str, forwarded: str) -> Any:
    return RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)


def test_the_pause_is_short_and_grows_when_repeated(cast, client):
    _fail(client, "maria.g")
    assert "5 minutes" in sign_in_with_password(client, "maria.g").content.decode()
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=6))
    _fail(client, "maria.g")
    second = sign_in_with_password(client, "maria.g")
    assert second.status_code == 429 and "10 minutes" in second.content.decode()


def test_the_shared_device_unlock_counts_against_the_patients_own_account(cast, client_as):
    client = client_as(cast.patient)
    client.post(reverse("consent:device"), {"shared": "1"}, REMOTE_ADDR=WAITING_ROOM)
    for _ in range(5):
        client.post(reverse("consent:unlock"), {"password": "wrong"}, REMOTE_ADDR=WAITING_ROOM)
    # Maria's own account is paused ...
    assert sign_in_with_password(Client(), "maria.g", address="198.51.100.9").status_code == 429
    # ... and no one else behind that address is.
    assert sign_in_with_password(Client(), "tom.b", address=WAITING_ROOM).status_code == 302


def test_the_paused_page_says_who_can_lift_it(cast, client):
    _fail(client, "omar.oncall")
    body = sign_in_with_password(client, "omar.oncall").content.decode()
    assert "call your program admin or privacy officer" in body


PAUSES = reverse("accounts:sign_in_pauses")


@pytest.mark.parametrize("lifter", ["program_admin", "privacy_officer"])
def test_a_program_admin_or_the_privacy_officer_lifts_a_pause_audited(cast, client_as, lifter):
    _fail(Client(), "omar.oncall")
    assert sign_in_with_password(Client(), "omar.oncall").status_code == 429
    admin = client_as(getattr(cast, lifter))
    page = admin.get(PAUSES).content.decode()
    assert "Garcia" not in page and "Lift the pause for Omar" in page
    response = admin.post(PAUSES, {"user": cast.on_call.pk}, follow=True)
    assert "can sign in again now" in response.content.decode()
    assert sign_in_with_password(Client(), "omar.oncall").status_code == 302
    event = AuditEvent.objects.get(object_type="accounts.user", object_id=str(cast.on_call.pk))
    assert event.actor_id == getattr(cast, lifter).pk
    assert (event.action, event.category, event.outcome) == ("update", "general", "allowed")


def test_only_admins_and_privacy_officers_of_the_organization_lift_pauses(cast, client_as):
    for persona in (
        cast.assigned_clinician,
        cast.clinical_lead,
        cast.on_call,
        cast.front_desk,
        cast.other_org_clinician,
    ):
        client = client_as(persona)
        assert client.get(PAUSES).status_code == 404
        assert client.post(PAUSES, {"user": cast.on_call.pk}).status_code == 404
    assert client_as(cast.patient).get(PAUSES).status_code in (302, 404)
    _fail(Client(), "omar.oncall")  # after on-call's own sign-in above (a success resets)
    # Another organization's person is not in this admin's reach.
    stranger = cast.other_org_clinician
    assert client_as(cast.program_admin).post(PAUSES, {"user": stranger.pk}).status_code == 404
    assert client_as(cast.program_admin).post(PAUSES, {"user": "1e3"}).status_code == 404
    assert sign_in_with_password(Client(), "omar.oncall").status_code == 429
    assert not AuditEvent.objects.filter(object_type="accounts.user").exists()
