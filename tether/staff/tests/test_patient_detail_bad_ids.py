"""Issue 3, "Bad input": another organization's patient, a guessed id, or a forged
field naming another patient is denied, audited, and answered with 404."""

from __future__ import annotations

import re

import pytest
from django.http import Http404
from django.test import RequestFactory
from django.urls import reverse

from tether.accounts.models import Invite, ResetCode
from tether.organizations.models import Program
from tether.patients.models import Patient
from tether.privacy.gate import access_patient
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category
from tether.testing.cast import make_patient


@pytest.fixture
def other_org_patient(cast) -> Patient:
    program = Program.objects.get(organization=cast.other_organization)
    user = make_patient(
        cast.other_organization,
        program,
        "eve.elsewhere",
        first_name="Zelda",
        last_name="Quist",
        clinician=cast.other_org_clinician,
    )
    return user.patient


def missing_id() -> int:
    return (Patient.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000


def detail(patient_id: object) -> str:
    return f"/staff/patients/{patient_id}/"


def normalized(html: str, patient_id: int) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return html.replace(f"/{patient_id}/", "/ID/")


def denied_events() -> list[tuple[int | None, int | None, str, str]]:
    return [
        (e.patient_id, e.organization_id, e.action, e.category)
        for e in AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED).order_by("pk")
    ]


@pytest.mark.parametrize("persona", ["clinical_lead", "front_desk", "assigned_clinician"])
def test_it_answers_404_for_another_organizations_patient(
    cast, client_as, other_org_patient, persona
):
    response = client_as(getattr(cast, persona)).get(detail(other_org_patient.pk))
    assert response.status_code == 404
    assert "Zelda" not in response.content.decode()
    assert "Quist" not in response.content.decode()
    # Denied and audited in the reader's own organization, never linked to the other one.
    assert denied_events() == [(None, cast.organization.pk, "view", "general")]


def test_it_answers_404_for_a_guessed_id(cast, client_as):
    response = client_as(cast.clinical_lead).get(detail(missing_id()))
    assert response.status_code == 404
    assert denied_events() == [(None, cast.organization.pk, "view", "general")]


def test_a_guessed_id_and_another_organizations_patient_look_the_same(
    cast, client_as, other_org_patient
):
    for persona in ("clinical_lead", "unassigned_clinician"):
        client = client_as(getattr(cast, persona))
        guessed = missing_id()
        a = client.get(detail(guessed))
        b = client.get(detail(other_org_patient.pk))
        assert a.status_code == b.status_code == 404
        assert normalized(a.content.decode(), guessed) == normalized(
            b.content.decode(), other_org_patient.pk
        )


@pytest.mark.parametrize("bad_id", ["abc", "1.0", "-1", "1%20OR%201=1", "%00"])
def test_it_answers_404_for_an_id_that_is_not_a_number(cast, client_as, bad_id):
    response = client_as(cast.clinical_lead).get(detail(bad_id))
    assert response.status_code == 404
    assert "Garcia" not in response.content.decode()


@pytest.mark.parametrize("bad_id", ["abc", "", "1 OR 1=1", None, "9" * 40])
def test_the_gate_refuses_and_audits_an_id_that_is_not_a_number(cast, bad_id):
    request = RequestFactory().get("/")
    request.user = cast.clinical_lead
    with pytest.raises(Http404):
        access_patient(
            request,
            bad_id,
            category=Category.GENERAL,
            action=Action.VIEW,
            purpose=Purpose.TREATMENT,
        )
    assert denied_events() == [(None, cast.organization.pk, "view", "general")]


@pytest.mark.parametrize(
    ("name", "made"), [("staff:invite_create", Invite), ("staff:reset_code_issue", ResetCode)]
)
def test_it_refuses_a_forged_post_naming_another_organizations_patient(
    cast, client_as, other_org_patient, name, made
):
    response = client_as(cast.front_desk).post(reverse(name, args=[other_org_patient.pk]))
    assert response.status_code == 404
    assert not made.objects.exists()
    assert denied_events() == [
        (None, cast.organization.pk, "create" if made is Invite else "update", "general")
    ]


def test_it_refuses_a_patient_of_its_own_organization_it_has_no_relation_to(cast, client_as):
    response = client_as(cast.unassigned_clinician).get(detail(cast.patient.patient.pk))
    assert response.status_code == 404
    # Same organization: the denial names the patient, for the privacy officer's review.
    assert denied_events() == [(cast.patient.patient.pk, cast.organization.pk, "view", "general")]
