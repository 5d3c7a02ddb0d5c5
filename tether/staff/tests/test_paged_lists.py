"""The staff lists that grow with the program are paged, and a page costs the same
queries whatever the number of patients (docs/BENCHMARKS.md, "Staff pages at 10,000
patients")."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tether.privacy.models import AuditEvent
from tether.staff import caseload
from tether.testing.cast import make_patient
from tether.testing.queries import page_queries

URL = reverse("staff:dashboard")


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(caseload, "PER_PAGE", 2)


def _add_patients(cast: Any, count: int, *, start: int = 0) -> None:
    for index in range(start, start + count):
        make_patient(
            cast.organization,
            cast.iop,
            f"paged{index}",
            first_name="Paged",
            last_name=f"Zed{index:02d}",
            clinician=cast.assigned_clinician,
        )


def _names(body: str) -> list[str]:
    return re.findall(r"Zed\d\d", body)


def _all_pages(client: Any, url: str, sort: str = "") -> tuple[int, list[str]]:
    first = client.get(url + sort).content.decode()
    found = re.search(r"Page 1 of (\d+)", first)
    assert found is not None
    pages = int(found.group(1))
    seen = []
    for number in range(1, pages + 1):
        joiner = "&" if sort else "?"
        body = client.get(f"{url}{sort}{joiner}page={number}").content.decode()
        seen.extend(_names(body))
    return pages, seen


def test_it_pages_the_caseload_board_and_shows_every_patient_once(cast, client_as, small_pages):
    _add_patients(cast, 5)
    client = client_as(cast.assigned_clinician)
    for sort in ("", "?sort=name", "?sort=checkin"):
        pages, seen = _all_pages(client, URL, sort)
        assert pages >= 3
        assert sorted(seen) == [f"Zed{i:02d}" for i in range(5)]  # each once, none lost


def test_it_audits_only_the_patients_on_the_page_shown(cast, client_as, small_pages):
    _add_patients(cast, 5)
    client = client_as(cast.assigned_clinician)
    client.get(URL)
    before = AuditEvent.objects.filter(object_type="staff.caseload").count()
    client.get(URL + "?page=2")
    assert AuditEvent.objects.filter(object_type="staff.caseload").count() - before == 2


def test_it_pages_the_patient_list(cast, client_as, small_pages):
    _add_patients(cast, 5)
    client = client_as(cast.front_desk)
    pages, seen = _all_pages(client, URL)
    assert pages >= 3
    assert sorted(seen) == [f"Zed{i:02d}" for i in range(5)]


@pytest.mark.parametrize("page", ["abc", "999", "-1", "0"])
def test_it_shows_a_page_for_any_page_number(cast, client_as, small_pages, page):
    _add_patients(cast, 3)
    for user in (cast.assigned_clinician, cast.front_desk):
        response = client_as(user).get(URL + f"?page={page}")
        assert response.status_code == 200
        assert "/staff/patients/" in response.content.decode()  # a page of patients


@pytest.mark.parametrize("who", ["assigned_clinician", "clinical_lead", "front_desk"])
def test_a_page_costs_the_same_queries_at_two_sizes(cast, client_as, small_pages, who):
    _add_patients(cast, 3)
    client = client_as(getattr(cast, who))
    client.get(URL)  # the first request of a session does one-off work
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL).status_code == 200
    _add_patients(cast, 6, start=3)
    with CaptureQueriesContext(connection) as large:
        assert client.get(URL + "?page=2").status_code == 200
    assert len(page_queries(large.captured_queries)) == len(page_queries(small.captured_queries))
    assert len(large.captured_queries) == len(small.captured_queries)


def test_a_programs_count_is_written_with_a_thousands_separator(cast, client_as, monkeypatch):
    """A lead's "10,025 patients", not "10025" (django.contrib.humanize's intcomma)."""

    class Counted:
        total, number, pages = 10025, 1, 1
        has_previous = has_next = False
        rows: list[Any] = []

    monkeypatch.setattr(caseload, "caseload_page", lambda **_kw: Counted())
    body = client_as(cast.assigned_clinician).get(URL).content.decode()
    assert "10,025 patients you can see." in body
