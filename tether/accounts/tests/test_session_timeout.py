"""Idle time-out and absolute lifetime (ASVS 7.3.1/7.3.2, ONC (d)(5)), by moving the
session's timestamps instead of waiting."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from tether.accounts.middleware import SESSION_LAST_SEEN, SESSION_STARTED

MINUTE = 60


def _age_session(
    client: Client, *, idle_seconds: float = 0, age_seconds: float | None = None
) -> str:
    now = time.time()
    session = client.session
    session[SESSION_LAST_SEEN] = now - idle_seconds
    session[SESSION_STARTED] = now - (age_seconds if age_seconds is not None else idle_seconds)
    session.save()
    assert session.session_key is not None
    return session.session_key


def _assert_timed_out(client: Client, response: Any, session_key: str) -> None:
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:timed_out")
    assert not Session.objects.filter(session_key=session_key).exists()
    login_page = client.get(response["Location"], follow=True).content.decode()
    assert "signed out after a period of inactivity" in login_page


def test_it_keeps_staff_signed_in_for_14_idle_minutes(cast, client_as):
    client = client_as(cast.assigned_clinician)
    _age_session(client, idle_seconds=14 * MINUTE)
    assert client.get(reverse("staff:dashboard")).status_code == 200


def test_it_signs_staff_out_after_15_idle_minutes(cast, client_as):
    client = client_as(cast.assigned_clinician)
    key = _age_session(client, idle_seconds=15 * MINUTE + 5)
    _assert_timed_out(client, client.get(reverse("staff:dashboard")), key)


def test_it_keeps_patients_signed_in_for_29_idle_minutes(cast, client_as):
    client = client_as(cast.patient)
    _age_session(client, idle_seconds=29 * MINUTE)
    assert client.get(reverse("portal:home")).status_code == 200


def test_it_signs_patients_out_after_30_idle_minutes(cast, client_as):
    client = client_as(cast.patient)
    key = _age_session(client, idle_seconds=30 * MINUTE + 5)
    _assert_timed_out(client, client.get(reverse("portal:home")), key)


@pytest.mark.parametrize("persona", ["patient", "assigned_clinician"])
def test_it_ends_every_session_after_12_hours_even_when_active(cast, client_as, persona):
    client = client_as(getattr(cast, persona))
    key = _age_session(client, idle_seconds=MINUTE, age_seconds=12 * 3600 + 5)
    _assert_timed_out(client, client.get(reverse("home")), key)


def test_it_counts_idle_time_from_the_last_request(cast, client_as):
    client = client_as(cast.patient)
    _age_session(client, idle_seconds=20 * MINUTE, age_seconds=40 * MINUTE)
    assert client.get(reverse("portal:home")).status_code == 200
    assert time.time() - client.session[SESSION_LAST_SEEN] < MINUTE  # activity was noted
    assert client.get(reverse("portal:home")).status_code == 200
