from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from tether.homework.models import Assignment
from tether.homework.services import program_template_add
from tether.privacy.models import AuditEvent


def _url(cast: Any) -> Any:
    return reverse("homework:staff_assign", args=[cast.patient.patient.pk])


def test_it_assigns_homework_with_a_due_date_and_note(cast, client_as):
    due = timezone.localdate() + timedelta(days=5)
    response = client_as(cast.assigned_clinician).post(
        _url(cast), {"template": "dbt_diary_card", "due_on": due.isoformat(), "note": "Try daily"}
    )
    assert response.status_code == 302
    assignment = Assignment.objects.get()
    assert (assignment.patient, assignment.template_key, assignment.due_on) == (
        cast.patient.patient,
        "dbt_diary_card",
        due,
    )
    assert assignment.note == "Try daily" and assignment.status == "not_started"
    assert assignment.definition["per_day"] == 7  # a copy of the template as it was
    event = AuditEvent.objects.filter(object_type="homework.assignment").latest("id")
    assert (event.category, event.action) == ("shared", "create")


def test_it_offers_the_programs_own_templates(cast, client_as):
    program_template_add(
        program=cast.iop,
        data={
            "key": "gratitude",
            "title": "Three good things",
            "steps": [
                {"title": "Today", "fields": [{"key": "t", "kind": "list", "label": "Good"}]}
            ],
        },
    )
    body = client_as(cast.assigned_clinician).get(_url(cast)).content.decode()
    assert "Three good things" in body and "Thought record" in body


def test_it_refuses_a_due_date_in_the_past_and_keeps_the_note(cast, client_as):
    past = timezone.localdate() - timedelta(
        days=2
    )  # yesterday in every zone, even when UTC is a day ahead
    response = client_as(cast.assigned_clinician).post(
        _url(cast), {"template": "reflection", "due_on": past.isoformat(), "note": "Keep this"}
    )
    body = response.content.decode()
    assert "The due date cannot be in the past." in body and "Keep this" in body
    assert not Assignment.objects.exists()


def test_it_refuses_malformed_input(cast, client_as):
    client = client_as(cast.assigned_clinician)
    response = client.post(
        _url(cast), {"template": "nope", "due_on": "31/31/2026", "note": "n" * 5000}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Select a valid choice" in body and "Enter a valid date" in body
    assert "This is too long to save" in body
    assert not Assignment.objects.exists()


def test_it_checks_access(cast, client_as):
    assert client_as(cast.assigned_clinician).get(_url(cast)).status_code == 200
    due = (timezone.localdate() + timedelta(days=3)).isoformat()
    for persona in ("clinical_lead", "front_desk", "unassigned_clinician", "patient", "parent"):
        client = client_as(getattr(cast, persona))
        assert client.post(_url(cast), {"template": "reflection", "due_on": due}).status_code == 404
    assert not Assignment.objects.exists()
