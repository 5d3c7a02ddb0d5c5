from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tether.accounts.models import User
from tether.patients.models import CareTeamMember, Episode, LevelOfCare, Patient
from tether.privacy.models import AuditEvent
from tether.testing.cast import Cast

URL = reverse("staff:patient_create")


def _form(cast: Cast, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "first_name": "Rosa",
        "last_name": "Diaz",
        "preferred_name": "Rosie",
        "date_of_birth": "1988-03-02",
        "record_number": "MRN-2041",
        "mobile_phone": "413-555-0142",
        "email": "rosa.diaz@example.org",
        "program": cast.iop.pk,
        "level_of_care": LevelOfCare.IOP,
        "admitted_on": timezone.localdate().isoformat(),
        "primary_therapist": cast.assigned_clinician.staff_member.pk,
    }
    data.update(overrides)
    return data


def test_it_shows_the_intake_form(cast, client_as):
    response = client_as(cast.front_desk).get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Register a new patient" in body
    assert 'name="record_number"' in body
    assert "Adult IOP" in body


def test_it_registers_the_patient_with_login_episode_and_care_team(cast, client_as):
    response = client_as(cast.front_desk).post(URL, _form(cast))

    patient = Patient.objects.get(record_number="MRN-2041")
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:patient_detail", args=[patient.pk])
    assert (patient.first_name, patient.last_name, patient.preferred_name) == (
        "Rosa",
        "Diaz",
        "Rosie",
    )
    assert patient.organization == cast.organization
    user = patient.user
    assert user is not None
    assert user.kind == User.Kind.PATIENT
    assert user.organization == cast.organization
    assert user.email == "rosa.diaz@example.org"
    assert user.username.startswith("rosa.d")  # first name, last initial: easy to read aloud
    assert not user.has_usable_password()  # they choose it from the invite link
    episode = Episode.objects.get(patient=patient)
    assert episode.program == cast.iop
    assert episode.status == Episode.Status.ACTIVE
    assert episode.level_of_care == LevelOfCare.IOP
    member = CareTeamMember.objects.get(episode=episode)
    assert member.staff_member == cast.assigned_clinician.staff_member
    assert member.role == CareTeamMember.Role.PRIMARY_THERAPIST
    assert AuditEvent.objects.filter(
        actor=cast.front_desk, patient=patient, action="create", outcome="allowed"
    ).exists()


def test_it_shows_the_new_patient_with_an_invite_button(cast, client_as):
    client = client_as(cast.front_desk)
    body = client.post(URL, _form(cast), follow=True).content.decode()
    assert "Rosie Diaz" in body
    assert "Create invite link and QR code" in body


def test_it_refuses_a_record_number_already_in_use_and_keeps_what_was_typed(cast, client_as):
    response = client_as(cast.front_desk).post(URL, _form(cast, record_number="MRN-maria.g"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "A patient with this record number is already registered." in body
    assert "Nothing you typed was lost." in body
    assert 'value="Rosa"' in body and 'value="Diaz"' in body and 'value="413-555-0142"' in body
    assert 'value="MRN-maria.g"' in body
    assert not Patient.objects.filter(first_name="Rosa").exists()


def test_it_allows_the_same_record_number_in_another_organization(cast, client_as):
    response = client_as(cast.other_org_clinician).post(
        URL,
        _form(
            cast,
            record_number="MRN-maria.g",
            program=cast.other_org_clinician.staff_member.programs.get().pk,
            primary_therapist="",
        ),
    )
    assert response.status_code == 302


def test_it_refuses_a_birth_date_in_the_future(cast, client_as):
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = client_as(cast.front_desk).post(URL, _form(cast, date_of_birth=tomorrow))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Check the date of birth" in body
    assert f'value="{tomorrow}"' in body
    assert 'value="MRN-2041"' in body
    assert not Patient.objects.filter(record_number="MRN-2041").exists()


def test_it_refuses_an_email_another_account_uses(cast, client_as):
    response = client_as(cast.front_desk).post(URL, _form(cast, email="DANA.clinician@example.org"))
    assert "This email is already used by another account." in response.content.decode()
    assert not Patient.objects.filter(record_number="MRN-2041").exists()


def test_it_offers_only_the_staff_members_own_organization(cast, client_as):
    response = client_as(cast.other_org_clinician).post(URL, _form(cast, primary_therapist=""))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Patient.objects.filter(record_number="MRN-2041").exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("front_desk", 200),
        ("assigned_clinician", 200),
        ("clinical_lead", 200),
        ("program_admin", 200),
        ("on_call", 404),
        ("privacy_officer", 404),
        ("patient", 404),
        ("parent", 404),
    ],
)
def test_it_checks_access(cast, client_as, persona, status):
    client = client_as(getattr(cast, persona))
    assert client.get(URL).status_code == status
    response = client.post(URL, _form(cast))
    assert Patient.objects.filter(record_number="MRN-2041").exists() == (status == 200)
    if status == 404:
        assert response.status_code == 404


def test_it_redirects_anonymous_people_to_sign_in(db, client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_it_stores_the_mobile_number_in_e164_and_refuses_one_that_cannot_be_dialled(
    cast, client_as
):
    client = client_as(cast.front_desk)
    refused = client.post(URL, _form(cast, mobile_phone="555-0142 5555555555555"))
    assert refused.status_code in (200, 400)
    body = refused.content.decode()
    assert "This is not a phone number that can be dialled." in body
    assert "MRN-2041" in body and not Patient.objects.filter(record_number="MRN-2041").exists()
    client.post(URL, _form(cast, mobile_phone="(413) 555-0142"))
    assert Patient.objects.get(record_number="MRN-2041").mobile_phone == "+14135550142"


def test_it_records_the_language_the_patient_reads_tether_in(cast, client_as):
    client = client_as(cast.front_desk)
    client.post(URL, _form(cast, language="es"))
    patient = Patient.objects.get(record_number="MRN-2041")
    assert patient.user is not None and patient.user.language == "es"
    page = client.get(reverse("staff:patient_detail", args=[patient.pk])).content.decode()
    assert "Reads Tether in Español" in page


def test_the_language_may_be_left_to_the_patients_phone(cast, client_as):
    client_as(cast.front_desk).post(URL, _form(cast))
    patient = Patient.objects.get(record_number="MRN-2041")
    assert patient.user is not None and patient.user.language == ""
