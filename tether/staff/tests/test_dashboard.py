from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tether.testing.cast import make_patient
from tether.testing.queries import page_queries

URL = reverse("staff:dashboard")


def test_it_lists_only_the_clinicians_own_patients(cast, client_as):
    response = client_as(cast.assigned_clinician).get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Garcia" in body
    assert "Kim" in body
    assert "Baker" not in body  # another clinician's patient


def test_it_lists_every_program_patient_for_the_clinical_lead(cast, client_as):
    body = client_as(cast.clinical_lead).get(URL).content.decode()
    assert "Garcia" in body and "Baker" in body and "Kim" in body


def test_it_shows_front_desk_the_program_list(cast, client_as):
    body = client_as(cast.front_desk).get(URL).content.decode()
    assert "Garcia" in body and "Baker" in body


@pytest.mark.parametrize("persona", ["patient", "parent"])
def test_it_checks_access(cast, client_as, persona):
    response = client_as(getattr(cast, persona)).get(URL)
    assert response.status_code == 404


def test_it_shows_nothing_from_another_organization(cast, client_as):
    body = client_as(cast.other_org_clinician).get(URL).content.decode()
    assert "Garcia" not in body and "Baker" not in body
    assert "0 patients" in body


def test_it_redirects_anonymous_people_to_sign_in(cast, client):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_it_is_never_cached(cast, client_as):
    response = client_as(cast.clinical_lead).get(URL)
    assert "no-store" in response["Cache-Control"]


def test_it_costs_the_same_queries_whatever_the_caseload(cast, client_as):
    client = client_as(cast.assigned_clinician)
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL).status_code == 200
    for index in range(25):
        make_patient(
            cast.organization,
            cast.iop,
            f"extra{index}",
            first_name="Extra",
            last_name=f"Patient{index}",
            born=dt.date(1980, 1, 1),
            clinician=cast.assigned_clinician,
        )
    with CaptureQueriesContext(connection) as large:
        response = client.get(URL)
    assert "Patient24" in response.content.decode()
    # The page's own queries are constant; its audit rows are one per patient shown.
    assert len(page_queries(large.captured_queries)) == len(page_queries(small.captured_queries))
