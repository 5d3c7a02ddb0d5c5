"""The program's week: staff of the program; no patient names; constant queries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tether.scheduling.tests.conftest import more_patients, started_group

pytestmark = pytest.mark.django_db

STAFF_OF_THE_PROGRAM = (
    "assigned_clinician",
    "unassigned_clinician",
    "clinical_lead",
    "on_call",
    "front_desk",
    "program_admin",
)


@pytest.mark.parametrize("persona", STAFF_OF_THE_PROGRAM)
def test_it_shows_the_week_to_staff_of_the_program(cast, client_as, group, persona):
    body = (
        client_as(getattr(cast, persona))
        .get(reverse("scheduling:week"), {"program": cast.iop.pk})
        .content.decode()
    )
    assert "Evening skills group" in body
    assert "Maria" not in body  # counts only: names are on the session page, through the gate


@pytest.mark.parametrize(
    "persona",
    ["privacy_officer", "other_org_clinician", "patient", "adolescent", "parent"],
)
def test_it_checks_access(cast, client_as, group, persona):
    response = client_as(getattr(cast, persona)).get(
        reverse("scheduling:week"), {"program": cast.iop.pk}
    )
    assert response.status_code == 404


def test_another_program_of_nobody_is_refused(cast, client_as):
    response = client_as(cast.front_desk).get(reverse("scheduling:week"), {"program": "999999"})
    assert response.status_code == 404


QUERIES = (
    9  # session, staff, programs, may-schedule, the week (one query), groups, duty counts (one)
)


@pytest.mark.parametrize("size", [1, 12])
def test_it_costs_the_same_queries_whatever_the_roster(
    cast, client_as, size, django_assert_num_queries
):
    started_group(cast, patients=[cast.patient, *more_patients(cast, size - 1)])
    client = client_as(cast.front_desk)
    client.get(reverse("scheduling:week"), {"program": cast.iop.pk})
    with django_assert_num_queries(QUERIES):
        response = client.get(reverse("scheduling:week"), {"program": cast.iop.pk})
    assert f"{size} booked" in response.content.decode()
