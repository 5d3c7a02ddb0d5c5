"""Issue 13, finding 2: a consent entered on a staff device is the patient's own act.

Only the patient's care team enters it (never the front desk), the patient confirms it
themself (their own password, or an in-person signature witnessed with their identity
checked), a minor's is refused until the reference states the rule, and the patient and
the privacy officer see that it was entered by staff."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tether.consent.models import ConsentDirective, Recipient
from tether.notifications.models import Notification
from tether.privacy.models import AuditEvent
from tether.testing.cast import PASSWORD


def _url(patient) -> str:
    return reverse("consent:staff_consent_new", args=[patient.pk])


def _form(pcp: Recipient, **overrides: str) -> dict[str, str]:
    data = {
        "recipient": str(pcp.pk),
        "category": "part2",
        "description": "My substance-use treatment scores",
        "purpose": "TREAT",
        "expires_on": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        "signature_name": "Maria Garcia",
        "agree": "on",
    }
    data.update(overrides)
    return data


PATIENT_PASSWORD = {"patient_confirmation": "patient_password", "patient_password": PASSWORD}
IN_PERSON = {"patient_confirmation": "in_person", "identity_document": "drivers_license"}


# --- The forgery ------------------------------------------------------------------------


def test_the_front_desk_cannot_enter_a_part2_consent(cast, client_as, pcp):
    response = client_as(cast.front_desk).post(_url(cast.patient.patient), _form(pcp))
    assert response.status_code == 404
    assert not ConsentDirective.objects.exists()


def test_the_front_desk_cannot_enter_one_for_a_15_year_old(cast, client_as, pcp):
    response = client_as(cast.front_desk).post(
        _url(cast.adolescent.patient), _form(pcp, signature_name="Jordan Kim")
    )
    assert response.status_code == 404
    assert not ConsentDirective.objects.exists()


def test_a_typed_name_alone_is_not_the_patients_act(cast, client_as, pcp):
    """The care team too: without the patient's own step nothing is signed."""
    response = client_as(cast.assigned_clinician).post(_url(cast.patient.patient), _form(pcp))
    assert response.status_code == 200
    assert not ConsentDirective.objects.exists()
    assert "Maria Garcia" in response.content.decode()  # nothing typed is lost


def test_a_wrong_patient_password_signs_nothing(cast, client_as, pcp):
    response = client_as(cast.assigned_clinician).post(
        _url(cast.patient.patient),
        _form(pcp, patient_confirmation="patient_password", patient_password="guess"),
    )
    assert response.status_code == 200
    assert "password is not right" in response.content.decode()
    assert not ConsentDirective.objects.exists()


def test_the_clinicians_own_password_is_not_the_patients(cast, client_as, pcp):
    response = client_as(cast.assigned_clinician).post(
        _url(cast.patient.patient),
        _form(pcp, patient_confirmation="patient_password", patient_password=PASSWORD)
        | {"patient_username": "dana.clinician"},
    )
    # The password is checked against the patient's own account, whatever else is posted.
    consent = ConsentDirective.objects.get()
    assert consent.patient == cast.patient.patient
    assert consent.patient_confirmed == ConsentDirective.PatientConfirmed.PATIENT_PASSWORD
    assert response.status_code == 302


# --- The legitimate paths ---------------------------------------------------------------


def test_the_care_team_enters_it_with_the_patients_password(cast, client_as, pcp):
    response = client_as(cast.assigned_clinician).post(
        _url(cast.patient.patient), _form(pcp) | PATIENT_PASSWORD
    )
    assert response.status_code == 302
    consent = ConsentDirective.objects.get()
    assert consent.signed_via == ConsentDirective.SignedVia.STAFF_DEVICE
    assert consent.entered_by == cast.assigned_clinician
    assert consent.witnessed_by == cast.assigned_clinician
    assert consent.patient_confirmed == ConsentDirective.PatientConfirmed.PATIENT_PASSWORD
    event = AuditEvent.objects.get(
        object_type="consent.consentdirective", object_id=str(consent.pk)
    )
    assert event.actor == cast.assigned_clinician
    assert event.acting_as == "witness"
    assert event.action == "create" and event.category == "part2"


def test_the_care_team_enters_it_witnessed_in_person(cast, client_as, pcp):
    response = client_as(cast.assigned_clinician).post(
        _url(cast.patient.patient), _form(pcp) | IN_PERSON
    )
    assert response.status_code == 302
    consent = ConsentDirective.objects.get()
    assert consent.patient_confirmed == ConsentDirective.PatientConfirmed.IN_PERSON
    assert consent.identity_document == "drivers_license"
    assert consent.witnessed_by == cast.assigned_clinician


def test_in_person_needs_the_identity_document(cast, client_as, pcp):
    response = client_as(cast.assigned_clinician).post(
        _url(cast.patient.patient),
        _form(pcp, patient_confirmation="in_person", identity_document=""),
    )
    assert response.status_code == 200
    assert not ConsentDirective.objects.exists()


def test_a_minors_consent_is_not_entered_by_staff(cast, client_as, pcp):
    """Who signs for a minor (42 CFR 2.14, state law) is not in the reference: refused."""
    response = client_as(cast.assigned_clinician).post(
        _url(cast.adolescent.patient), _form(pcp, signature_name="Jordan Kim") | IN_PERSON
    )
    assert response.status_code == 200
    assert "under 18" in response.content.decode()
    assert not ConsentDirective.objects.exists()


# --- Seen as entered by staff -----------------------------------------------------------


def test_the_patient_sees_who_entered_and_witnessed_it(cast, client_as, pcp):
    client_as(cast.assigned_clinician).post(_url(cast.patient.patient), _form(pcp) | IN_PERSON)
    consent = ConsentDirective.objects.get()
    client = client_as(cast.patient)
    for url in (
        reverse("consent:patient_detail", args=[consent.pk]),
        reverse("consent:patient_list"),
    ):
        page = client.get(url).content.decode()
        assert "Entered by Dana Staff" in page, url
        assert "witnessed by Dana Staff, in person" in page, url


def test_the_privacy_officer_is_told(cast, client_as, pcp):
    client_as(cast.assigned_clinician).post(_url(cast.patient.patient), _form(pcp) | IN_PERSON)
    notification = Notification.objects.get(recipient=cast.privacy_officer)
    assert notification.kind == Notification.Kind.CONSENT_STAFF_ENTERED
    page = client_as(cast.privacy_officer).get(reverse("notifications:list")).content.decode()
    assert "Dana Staff" in page and "in person" in page


# --- Who may ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona",
    [
        "front_desk",
        "unassigned_clinician",
        "clinical_lead",
        "on_call",
        "program_admin",
        "privacy_officer",
        "other_org_clinician",
        "other_patient",
        "patient",
        "parent",
    ],
)
def test_the_wrong_people_cannot_enter_a_consent(cast, client_as, pcp, persona):
    response = client_as(getattr(cast, persona)).post(
        _url(cast.patient.patient), _form(pcp) | IN_PERSON
    )
    assert response.status_code == 404
    assert not ConsentDirective.objects.exists()


def test_signed_out_people_cannot_enter_a_consent(cast, client, pcp):
    response = client.post(_url(cast.patient.patient), _form(pcp) | IN_PERSON)
    assert response.status_code == 302
    assert not ConsentDirective.objects.exists()
