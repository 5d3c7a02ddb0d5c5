from __future__ import annotations

from typing import Any

from django.urls import reverse

from tether.homework.models import Assignment
from tether.homework.services import answers_save
from tether.privacy.models import AuditEvent, Purpose


def _url(cast: Any, a: Any) -> Any:
    return reverse("homework:staff_detail", args=[cast.patient.patient.pk, a.pk])


def _feedback(cast: Any, a: Any) -> Any:
    return reverse("homework:staff_feedback", args=[cast.patient.patient.pk, a.pk])


def test_it_shows_the_answers_and_takes_feedback(cast, client_as, assign):
    a = assign(cast.patient, "dbt_diary_card")
    answers_save(
        assignment=a,
        actor=cast.patient,
        values={"1.urge_use": 3, "1.skills": ["Mindfulness"], "1.notes": "Walked"},
        purpose=Purpose.PATIENT_REQUEST,
    )
    client = client_as(cast.assigned_clinician)
    body = client.get(_url(cast, a)).content.decode()
    assert "Urge to drink or use" in body and "Mindfulness" in body and "Walked" in body
    event = AuditEvent.objects.filter(category="self_report", action="view").latest("id")
    assert event.actor_id == cast.assigned_clinician.pk
    response = client.post(_feedback(cast, a), {"feedback": "Great use of skills"})
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.feedback == "Great use of skills" and a.feedback_by == cast.assigned_clinician


def test_it_keeps_oversized_feedback_and_says_so(cast, client_as, assign):
    a = assign(cast.patient, "reflection")
    response = client_as(cast.assigned_clinician).post(_feedback(cast, a), {"feedback": "f" * 3000})
    body = response.content.decode()
    assert "This is too long to save" in body and "f" * 3000 in body
    assert Assignment.objects.get().feedback == ""


def test_it_turns_away_an_assignment_of_another_patient(cast, client_as, assign):
    theirs = assign(cast.adolescent, "reflection")
    url = reverse("homework:staff_detail", args=[cast.patient.patient.pk, theirs.pk])
    assert client_as(cast.assigned_clinician).get(url).status_code == 404
    assert AuditEvent.objects.filter(outcome="denied", object_type="homework.assignment").exists()


def test_it_checks_access(cast, client_as, assign):
    a = assign(cast.patient, "reflection")
    assert client_as(cast.clinical_lead).get(_url(cast, a)).status_code == 200
    for persona in ("patient", "front_desk", "unassigned_clinician", "program_admin"):
        assert client_as(getattr(cast, persona)).get(_url(cast, a)).status_code == 404
    for persona in ("clinical_lead", "on_call", "front_desk"):
        client = client_as(getattr(cast, persona))
        assert client.post(_feedback(cast, a), {"feedback": "x"}).status_code == 404
