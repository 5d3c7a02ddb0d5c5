from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tether.homework.services import answers_save, assignment_complete
from tether.privacy.models import Purpose


def _url(cast: Any) -> Any:
    return reverse("homework:staff_list", args=[cast.patient.patient.pk])


def test_it_shows_status_completion_and_lateness(cast, client_as, assign):
    done = assign(cast.patient, "reflection")
    assignment_complete(assignment=done, actor=cast.patient, purpose=Purpose.PATIENT_REQUEST)
    started = assign(cast.patient, "thought_record")
    answers_save(
        assignment=started,
        actor=cast.patient,
        values={"1.situation": "x"},
        purpose=Purpose.PATIENT_REQUEST,
    )
    assign(cast.patient, "coping_skills", due_in_days=-3, starts_days_ago=10)
    body = client_as(cast.assigned_clinician).get(_url(cast)).content.decode()
    # Counted: the one done and the one overdue; 1 of 2 done, 1 late.
    assert "Last 28 days: 1 of 2 done (50%) · late 1" in body
    assert "In progress" in body and "Done" in body and "Late" in body


def test_the_patient_page_shows_a_summary(cast, client_as, assign):
    assign(cast.patient, "reflection")
    url = reverse("staff:patient_detail", args=[cast.patient.patient.pk])
    body = client_as(cast.assigned_clinician).get(url).content.decode()
    assert "Homework" in body and "Reflection" in body and _url(cast) in body
    assert "Reflection" not in client_as(cast.front_desk).get(url).content.decode()


def test_it_keeps_a_constant_number_of_queries(cast, client_as, assign):
    client = client_as(cast.assigned_clinician)
    assign(cast.patient)
    client.get(_url(cast))
    with CaptureQueriesContext(connection) as small:
        client.get(_url(cast))
    for key in ("reflection", "dbt_diary_card", "coping_skills", "relapse_prevention"):
        assign(cast.patient, key)
    with CaptureQueriesContext(connection) as large:
        client.get(_url(cast))
    assert len(large) == len(small)


def test_it_checks_access(cast, client_as):
    assert client_as(cast.on_call).get(_url(cast)).status_code == 200
    for persona in ("patient", "front_desk", "unassigned_clinician", "other_org_clinician"):
        assert client_as(getattr(cast, persona)).get(_url(cast)).status_code == 404
