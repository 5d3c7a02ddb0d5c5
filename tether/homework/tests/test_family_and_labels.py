"""Family-therapy assignments at assignment time, and record categories at capture."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from tether.homework.models import Assignment
from tether.homework.services import answers_save
from tether.privacy.models import AuditEvent, Purpose
from tether.testing.family import make_part2


def _assign_url(user: Any) -> str:
    return reverse("homework:staff_assign", args=[user.patient.pk])


def _due() -> str:
    return (timezone.localdate() + timedelta(days=7)).isoformat()


def test_it_assigns_homework_for_the_family(cast, client_as):
    client = client_as(cast.assigned_clinician)
    form = client.get(_assign_url(cast.adolescent)).content.decode()
    assert "For the family (a family-therapy assignment)" in form
    assert "What helps at home (family)" in form
    response = client.post(
        _assign_url(cast.adolescent),
        {"template": "family_what_helps", "due_on": _due(), "note": "Together", "for_family": "on"},
    )
    assert response.status_code == 302
    assignment = Assignment.objects.get()
    assert (assignment.for_family, assignment.record_category) == (True, "general")
    event = AuditEvent.objects.filter(object_type="homework.assignment").latest("id")
    assert (event.category, event.action) == ("general", "create")
    listing = client.get(reverse("homework:staff_list", args=[cast.adolescent.patient.pk]))
    assert "For the family" in listing.content.decode()


def test_it_refuses_family_homework_in_a_substance_use_program_and_keeps_the_form(cast, client_as):
    make_part2(cast.iop)
    response = client_as(cast.assigned_clinician).post(
        _assign_url(cast.patient),
        {"template": "reflection", "due_on": _due(), "note": "Keep this note", "for_family": "on"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "family members cannot see anything from it" in body
    assert "Keep this note" in body
    assert not Assignment.objects.exists()


def test_it_labels_homework_part2_in_a_substance_use_program(cast, client_as):
    make_part2(cast.iop)
    client_as(cast.assigned_clinician).post(
        _assign_url(cast.patient), {"template": "reflection", "due_on": _due()}
    )
    assignment = Assignment.objects.get()
    answers = answers_save(
        assignment=assignment,
        actor=cast.patient,
        values={"1.text": "x"},
        purpose=Purpose.PATIENT_REQUEST,
    )
    assert (assignment.record_category, answers.record_category) == ("part2", "part2")
    event = AuditEvent.objects.filter(object_type="homework.homeworkanswers").latest("id")
    assert event.category == "part2"
    detail = reverse("homework:staff_detail", args=[cast.patient.patient.pk, assignment.pk])
    listing = reverse("homework:staff_list", args=[cast.patient.patient.pk])
    assert client_as(cast.assigned_clinician).get(detail).status_code == 200
    # Part 2 records stay with the care team: the on-call clinician is refused (audited).
    for url in (detail, listing):
        assert client_as(cast.on_call).get(url).status_code == 404
    denied = AuditEvent.objects.filter(actor=cast.on_call, outcome="denied").latest("id")
    assert denied.category == "part2"


def test_it_labels_homework_shared_and_answers_self_report_elsewhere(cast, client_as):
    client_as(cast.assigned_clinician).post(
        _assign_url(cast.patient), {"template": "reflection", "due_on": _due()}
    )
    assignment = Assignment.objects.get()
    answers = answers_save(
        assignment=assignment,
        actor=cast.patient,
        values={"1.text": "x"},
        purpose=Purpose.PATIENT_REQUEST,
    )
    assert (assignment.for_family, assignment.record_category) == (False, "shared")
    assert answers.record_category == "self_report"


def test_a_group_assignment_is_never_for_the_family():
    from tether.homework.forms import AssignForm
    from tether.homework.library import builtin_library

    assert "for_family" not in AssignForm(library=builtin_library(), allow_family=False).fields
