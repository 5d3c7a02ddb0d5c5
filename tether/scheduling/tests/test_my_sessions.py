"""The patient's own sessions: upcoming with the video link, recent attendance."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_patient_sees_upcoming_sessions_with_the_video_link(cast, client_as, group):
    body = client_as(cast.patient).get(reverse("scheduling:my_sessions")).content.decode()
    assert "Evening skills group" in body
    assert 'href="https://video.example.org/evening"' in body
    assert "Need help now?" in body  # the crisis bar


@pytest.mark.parametrize(
    "persona", ("assigned_clinician", "front_desk", "parent", "other_org_clinician")
)
def test_it_checks_access(cast, client_as, group, persona):
    assert (
        client_as(getattr(cast, persona)).get(reverse("scheduling:my_sessions")).status_code == 404
    )


def test_another_patient_sees_only_their_own(cast, client_as, group):
    body = client_as(cast.other_patient).get(reverse("scheduling:my_sessions")).content.decode()
    assert "Evening skills group" not in body


# Session, user (with its MFA device, time zone and patient row: one query), the gate's
# audit (one statement on PostgreSQL, two inserts on SQLite: audit.written_together; the
# patient's own record is decided on the row read with the user, no query of its own), the
# two lists, page chrome.
QUERIES = 6 if connection.vendor == "postgresql" else 7


@pytest.mark.parametrize("persona", ["patient", "other_patient"])  # 15 sessions, and none
def test_it_costs_the_same_queries_for_many_and_no_sessions(
    cast, client_as, group, persona, django_assert_num_queries
):
    client = client_as(getattr(cast, persona))
    client.get(reverse("scheduling:my_sessions"))
    with django_assert_num_queries(QUERIES):
        client.get(reverse("scheduling:my_sessions"))
