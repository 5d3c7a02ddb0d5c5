"""A family member's own part of a family-therapy assignment: written with the "family
assignments" scope, kept apart from the patient's answers, read by the care team."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tether.family.models import FamilyAnswers
from tether.family.services import FamilyAnswersError, family_answers_save
from tether.homework.library import builtin_library
from tether.homework.models import HomeworkAnswers
from tether.homework.services import answers_save, assignment_create
from tether.patients.models import Proxy
from tether.privacy.models import AuditEvent, Purpose
from tether.testing.family import grant, make_part2

S = Proxy.Scope


def _family_assignment(cast: Any, user: Any = None, *, for_family: bool = True) -> Any:
    return assignment_create(
        patient=(user or cast.adolescent).patient,
        definition=builtin_library()["family_what_helps"],
        assigned_by=cast.assigned_clinician,
        due_on=timezone.localdate() + dt.timedelta(days=7),
        for_family=for_family,
    )


def _step(assignment: Any, number: int = 1) -> str:
    return reverse("family:assignment_step", args=[assignment.patient_id, assignment.pk, number])


def _page(assignment: Any) -> str:
    return reverse("family:assignment", args=[assignment.patient_id, assignment.pk])


def test_it_saves_the_parents_part_apart_from_the_teens_and_shows_it_back(cast, client_as):
    grant(cast, S.FAMILY_ASSIGNMENTS)
    assignment = _family_assignment(cast)
    answers_save(
        assignment=assignment,
        actor=cast.adolescent,
        values={"1.helps_me": "When Mom asks about my day at dinner"},
        purpose=Purpose.PATIENT_REQUEST,
    )
    client = client_as(cast.parent)
    response = client.post(
        _step(assignment, 1), {"helps_me": "Jordan walking the dog with me", "helps_family": ""}
    )
    assert response.status_code == 302 and response.url == _page(assignment)

    saved = FamilyAnswers.objects.get()
    assert (saved.author, saved.record_category) == (cast.parent, "general")
    assert saved.as_dict() == {"1.helps_me": "Jordan walking the dog with me", "1.helps_family": ""}
    # The teen's answers are untouched and the assignment's status is still the teen's.
    teen = HomeworkAnswers.objects.get(assignment=assignment).as_dict()
    assert teen == {"1.helps_me": "When Mom asks about my day at dinner"}
    page = client.get(_page(assignment)).content.decode()
    assert "Jordan walking the dog with me" in page
    assert "Change your part of step 1" in page and "Write your part of step 2" in page
    assert "When Mom asks" not in page
    assert "When Mom asks" not in client.get(_step(assignment, 1)).content.decode()

    event = AuditEvent.objects.filter(object_type="family.familyanswers").get()
    assert (event.actor_id, event.action, event.category, event.purpose) == (
        cast.parent.pk,
        "create",
        "general",
        "FAMRQT",
    )
    assert (event.acting_as, event.outcome) == ("proxy", "allowed")


def test_it_merges_steps_and_keeps_the_text_encrypted_at_rest(cast, client_as):
    grant(cast, S.FAMILY_ASSIGNMENTS)
    assignment = _family_assignment(cast)
    client = client_as(cast.parent)
    client.post(_step(assignment, 1), {"helps_me": "Very private words", "helps_family": ""})
    client.post(
        _step(assignment, 2), {"when": "Sunday after dinner", "ground_rules": ["Phones away"]}
    )
    data = FamilyAnswers.objects.get().as_dict()
    assert data["1.helps_me"] == "Very private words"
    assert data["2.ground_rules"] == ["Phones away"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM family_familyanswers")
        (stored,) = cursor.fetchone()
    assert "Very private words" not in stored
    # Opening a step again shows what the parent wrote.
    assert "Sunday after dinner" in client.get(_step(assignment, 2)).content.decode()


def test_it_keeps_what_was_typed_when_something_is_wrong(cast, client_as):
    grant(cast, S.FAMILY_ASSIGNMENTS)
    assignment = _family_assignment(cast)
    response = client_as(cast.parent).post(
        _step(assignment, 3), {"signal": "x" * 300, "plan": "Go for a short walk"}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "This is too long to save" in body
    assert "x" * 300 in body and "Go for a short walk" in body
    assert not FamilyAnswers.objects.exists()


def test_it_refuses_a_parent_without_the_scope_and_audits_it(cast, client_as):
    assignment = _family_assignment(cast)
    client = client_as(cast.parent)
    before = AuditEvent.objects.filter(actor=cast.parent, outcome="denied").count()
    assert client.get(_step(assignment)).status_code == 404
    assert client.post(_step(assignment), {"helps_me": "x"}).status_code == 404
    assert AuditEvent.objects.filter(actor=cast.parent, outcome="denied").count() == before + 2
    assert not FamilyAnswers.objects.exists()


@pytest.mark.parametrize(
    "persona",
    ["adolescent", "patient", "assigned_clinician", "clinical_lead", "other_org_clinician"],
)
def test_it_lets_no_one_else_write_the_familys_part(cast, client_as, persona):
    grant(cast, S.FAMILY_ASSIGNMENTS)
    assignment = _family_assignment(cast)
    client = client_as(getattr(cast, persona))
    assert client.get(_step(assignment)).status_code == 404
    assert client.post(_step(assignment), {"helps_me": "x"}).status_code == 404
    assert not FamilyAnswers.objects.exists()


def test_it_refuses_the_teens_own_homework_another_patients_and_a_missing_step(cast, client_as):
    grant(cast, S.FAMILY_ASSIGNMENTS)
    own = _family_assignment(cast, for_family=False)
    other = _family_assignment(cast, cast.patient)
    family = _family_assignment(cast)
    client = client_as(cast.parent)
    wrong_patient = reverse(
        "family:assignment_step", args=[cast.adolescent.patient.pk, other.pk, 1]
    )
    for url in (_step(own), _step(other), wrong_patient, _step(family, 9)):
        assert client.post(url, {"helps_me": "x"}).status_code == 404, url
    assert not FamilyAnswers.objects.exists()
    with pytest.raises(FamilyAnswersError):
        family_answers_save(assignment=own, author=cast.parent, values={"1.helps_me": "x"})


def test_it_saves_nothing_once_the_program_treats_substance_use(cast, client_as):
    grant(cast, S.FAMILY_ASSIGNMENTS)
    assignment = _family_assignment(cast)  # assigned before the program became Part 2
    make_part2(cast.adolescent_iop)
    client = client_as(cast.parent)
    assert "Write your part" not in client.get(_page(assignment)).content.decode()
    response = client.post(
        _step(assignment, 1), {"helps_me": "Walking the dog", "helps_family": ""}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "your part cannot be saved" in body and "Walking the dog" in body
    assert not FamilyAnswers.objects.exists()


def test_the_care_team_sees_the_familys_part_labelled_as_the_familys(cast, client_as):
    grant(cast, S.FAMILY_ASSIGNMENTS)
    assignment = _family_assignment(cast)
    answers_save(
        assignment=assignment,
        actor=cast.adolescent,
        values={"1.helps_me": "When Mom asks about my day"},
        purpose=Purpose.PATIENT_REQUEST,
    )
    family_answers_save(
        assignment=assignment, author=cast.parent, values={"1.helps_me": "Walking the dog"}
    )
    url = reverse("homework:staff_detail", args=[assignment.patient_id, assignment.pk])
    page = client_as(cast.assigned_clinician).get(url).content.decode()
    assert "The family's part" in page
    assert "Written by Grace Kim (Parent or guardian)" in page
    assert "Walking the dog" in page and "When Mom asks about my day" in page
    assert client_as(cast.unassigned_clinician).get(url).status_code == 404


def test_the_care_team_page_of_a_patients_own_homework_has_no_family_part(cast, client_as):
    assignment = _family_assignment(cast, for_family=False)
    url = reverse("homework:staff_detail", args=[assignment.patient_id, assignment.pk])
    page = client_as(cast.assigned_clinician).get(url).content.decode()
    assert "The family's part" not in page
