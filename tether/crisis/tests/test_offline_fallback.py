"""The parts of the database-down page that need no outage to test (the real outage:
test_database_down.py)."""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError
from django.http import HttpResponse
from django.test import RequestFactory

from tether.crisis import offline
from tether.crisis.views import server_error


@pytest.fixture
def snapshot(cast, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    offline.write_snapshot()
    return json.loads((tmp_path / offline.SNAPSHOT_NAME).read_text())


def test_the_snapshot_holds_every_active_programs_lines(snapshot, cast):
    entry = snapshot["programs"][str(cast.iop.pk)]
    assert entry["crisis_line"] == "555-0100"
    assert entry["after_hours_line"] == "555-0101"
    assert str(cast.iop.pk) in snapshot["organizations"]["riverbend"]


def test_the_hint_is_honoured_only_with_the_session_it_was_issued_for(snapshot, cast):
    hint = offline.hint_value(program_id=cast.iop.pk, session_key="abc123")
    same = RequestFactory().get("/crisis/")
    same.COOKIES = {"sessionid": "abc123", offline.HINT_COOKIE: hint}
    assert offline.hinted_program_id(same) == cast.iop.pk

    signed_out = RequestFactory().get("/crisis/")  # the session cookie is gone
    signed_out.COOKIES = {offline.HINT_COOKIE: hint}
    assert offline.hinted_program_id(signed_out) is None

    someone_else = RequestFactory().get("/crisis/")
    someone_else.COOKIES = {"sessionid": "other", offline.HINT_COOKIE: hint}
    assert offline.hinted_program_id(someone_else) is None

    forged = RequestFactory().get("/crisis/")
    forged.COOKIES = {"sessionid": "abc123", offline.HINT_COOKIE: hint[:-2] + "xx"}
    assert offline.hinted_program_id(forged) is None


def test_a_patient_page_remembers_the_program_for_an_outage(cast, client_as):
    client = client_as(cast.patient)
    client.get("/crisis/")
    assert client.cookies[offline.HINT_COOKIE]["httponly"]


def test_it_never_shows_a_password_back(snapshot):
    request = RequestFactory().post(
        "/accounts/sign-in/", {"username": "maria.g", "password": "hunter2", "otp_token": "1"}
    )
    visible, hidden = offline.kept_fields(request)
    assert ("username", "maria.g") in visible
    assert all("hunter2" not in value for _, value in visible + hidden)


def _raise(error: Exception) -> HttpResponse:
    try:
        raise error
    except Exception:
        return server_error(RequestFactory().get("/me/"))


def test_an_unreachable_database_gets_the_503_crisis_page(snapshot):
    response = _raise(OperationalError("connection refused"))
    assert response.status_code == 503
    assert 'href="tel:988"' in response.content.decode()


def test_any_other_error_is_still_a_plain_500(snapshot):
    response = _raise(RuntimeError("a bug"))
    assert response.status_code == 500
    assert "may NOT have reached your care team" in response.content.decode()
