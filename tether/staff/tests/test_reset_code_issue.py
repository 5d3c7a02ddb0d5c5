from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tether.accounts.models import ResetCode


def _url(patient) -> str:
    return reverse("staff:reset_code_issue", args=[patient.pk])


CHECKED = {"confirmation": "in_person", "identity_document": "drivers_license"}


def _code(body: str) -> str:
    match = re.search(r'<p class="code-display">(\d{4}) (\d{4})</p>', body)
    assert match, body
    return match.group(1) + match.group(2)


def test_it_shows_an_eight_digit_code(cast, client_as):
    response = client_as(cast.front_desk).post(_url(cast.patient.patient), CHECKED)
    assert response.status_code == 200
    body = response.content.decode()
    assert re.fullmatch(r"\d{8}", _code(body))
    assert "maria.g" in body  # the username to tell the patient


def test_it_gives_a_code_the_patient_can_use(cast, client_as, client):
    code = _code(
        client_as(cast.front_desk).post(_url(cast.patient.patient), CHECKED).content.decode()
    )
    client.post(reverse("accounts:logout"))
    response = client.post(
        reverse("accounts:reset_code"),
        {
            "username": "maria.g",
            "code": f"{code[:4]} {code[4:]}",
            "new_password1": "sunny days by the lake",
            "new_password2": "sunny days by the lake",
        },
    )
    assert response["Location"] == reverse("accounts:password_reset_complete")
    cast.patient.refresh_from_db()
    assert cast.patient.check_password("sunny days by the lake")


def test_it_never_stores_the_code_in_clear(cast, client_as):
    code = _code(
        client_as(cast.front_desk).post(_url(cast.patient.patient), CHECKED).content.decode()
    )
    stored = ResetCode.objects.get(user=cast.patient)
    assert code not in stored.code_hash


def test_it_stops_the_older_code_when_a_new_one_is_given(cast, client_as):
    desk = client_as(cast.front_desk)
    desk.post(_url(cast.patient.patient), CHECKED)
    desk.post(_url(cast.patient.patient), CHECKED)
    codes = ResetCode.objects.filter(user=cast.patient)
    assert codes.count() == 2
    assert codes.filter(used_at__isnull=True).count() == 1


def test_it_has_no_code_for_someone_who_never_chose_a_password(cast, client_as):
    cast.patient.set_unusable_password()
    cast.patient.save(update_fields=["password"])
    assert client_as(cast.front_desk).post(_url(cast.patient.patient), CHECKED).status_code == 404
    assert not ResetCode.objects.exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("front_desk", 200),
        ("assigned_clinician", 200),
        ("clinical_lead", 200),
        ("unassigned_clinician", 404),
        ("other_org_clinician", 404),
        ("program_admin", 404),
        ("patient", 404),
        ("parent", 404),
    ],
)
def test_it_checks_access(cast, client_as, persona, status):
    response = client_as(getattr(cast, persona)).post(_url(cast.patient.patient), CHECKED)
    assert response.status_code == status
    assert ResetCode.objects.exists() == (status == 200)


def test_it_only_gives_codes_on_post(cast, client_as):
    assert client_as(cast.front_desk).get(_url(cast.patient.patient)).status_code == 405


def test_it_is_never_cached(cast, client_as):
    response = client_as(cast.front_desk).post(_url(cast.patient.patient), CHECKED)
    assert "no-store" in response["Cache-Control"]
