from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tether.homework.library import builtin_library
from tether.homework.services import FamilyContentError, answers_save, assignment_create
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
        note="Try it before Thursday's family session.",
        for_family=for_family,
    )


def _url(assignment: Any) -> str:
    return reverse("family:assignment", args=[assignment.patient_id, assignment.pk])


def test_it_shows_the_parent_what_to_do_but_never_the_answers(cast, client_as):
    grant(cast, S.FAMILY_ASSIGNMENTS)
    assignment = _family_assignment(cast)
    answers_save(
        assignment=assignment,
        actor=cast.adolescent,
        values={"1.helps_me": "When Mom asks about my day at dinner"},
        purpose=Purpose.PATIENT_REQUEST,
    )
    home = client_as(cast.parent).get(reverse("portal:family_home")).content.decode()
    assert "What helps at home (family)" in home
    assert _url(assignment) in home
    page = client_as(cast.parent).get(_url(assignment)).content.decode()
    assert "A weekly check-in" in page
    assert "Try it before Thursday" in page
    assert "When Mom asks" not in page
    event = AuditEvent.objects.filter(actor=cast.parent).latest("id")
    assert (event.acting_as, event.purpose, event.outcome) == ("proxy", "FAMRQT", "allowed")


def test_it_labels_family_assignments_general_and_the_answers_self_report(cast):
    assignment = _family_assignment(cast)
    answers = answers_save(
        assignment=assignment,
        actor=cast.adolescent,
        values={"1.keep": "x"},
        purpose=Purpose.PATIENT_REQUEST,
    )
    assert (assignment.record_category, answers.record_category) == ("general", "self_report")


def test_it_refuses_a_family_assignment_in_a_substance_use_program(cast):
    make_part2(cast.adolescent_iop)
    with pytest.raises(FamilyContentError):
        _family_assignment(cast)
    assert _family_assignment(cast, for_family=False).record_category == "part2"


def test_it_hides_family_assignments_from_a_parent_without_the_scope(cast, client_as):
    assignment = _family_assignment(cast)
    client = client_as(cast.parent)
    assert "What helps at home" not in client.get(reverse("portal:family_home")).content.decode()
    before = AuditEvent.objects.filter(actor=cast.parent, outcome="denied").count()
    assert client.get(_url(assignment)).status_code == 404
    assert AuditEvent.objects.filter(actor=cast.parent, outcome="denied").count() == before + 1


def test_it_shows_no_one_else_the_family_page(cast, client_as):
    grant(cast, S.FAMILY_ASSIGNMENTS)
    assignment = _family_assignment(cast)
    for persona in (
        "adolescent",
        "patient",
        "assigned_clinician",
        "clinical_lead",
        "other_org_clinician",
    ):
        assert client_as(getattr(cast, persona)).get(_url(assignment)).status_code == 404, persona


def test_it_shows_a_parent_nothing_of_another_patients_assignments(cast, client_as):
    grant(cast, S.FAMILY_ASSIGNMENTS)
    other = _family_assignment(cast, cast.patient)
    own_patient_wrong_id = reverse("family:assignment", args=[cast.adolescent.patient.pk, other.pk])
    client = client_as(cast.parent)
    assert client.get(_url(other)).status_code == 404
    assert client.get(own_patient_wrong_id).status_code == 404


def test_it_does_not_show_the_parent_the_teens_own_homework(cast, client_as):
    grant(cast, S.FAMILY_ASSIGNMENTS)
    own = _family_assignment(cast, for_family=False)
    client = client_as(cast.parent)
    assert client.get(_url(own)).status_code == 404
    assert own.title not in client.get(reverse("portal:family_home")).content.decode()
