"""Writes from the EHR: Appointments into the schedule (through the schedule import
service) and a known patient's demographics."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tether.fhir.tests.helpers import BASE, bearer, consent_part2, parse, register
from tether.patients.models import Patient
from tether.privacy.models import AuditEvent
from tether.scheduling.models import Appointment, Attendance

pytestmark = pytest.mark.django_db
EHR = "https://ehr.example.org/appointments"
WRITE = "system/Appointment.write system/Appointment.read"


def _start(days: int = 3, hour: int = 15) -> dt.datetime:
    day = timezone.now().date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=dt.UTC)


def appointment(
    patient: Patient,
    *,
    value: str = "A-1001",
    start: dt.datetime | None = None,
    minutes: int = 50,
    clinician: str = "dana.clinician@example.org",
    reference: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    start = start or _start()
    return {
        "resourceType": "Appointment",
        "identifier": [{"system": EHR, "value": value}],
        "status": "booked",
        "serviceType": [{"text": "Individual session"}],
        "start": start.isoformat(),
        "end": (start + dt.timedelta(minutes=minutes)).isoformat(),
        "participant": [
            {"actor": {"reference": reference or f"Patient/{patient.pk}"}, "status": "accepted"},
            {
                "actor": {
                    "type": "Practitioner",
                    "identifier": {"system": "urn:ietf:rfc:3986", "value": f"mailto:{clinician}"},
                },
                "status": "accepted",
            },
            {"actor": {"type": "Location", "display": "Room 4"}, "status": "accepted"},
        ],
        **extra,
    }


def send(http: Client, method: str, path: str, body: Any, auth: dict[str, str]) -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    return getattr(http, method)(
        f"{BASE}/{path}", data, content_type="application/fhir+json", **auth
    )


@pytest.fixture
def writer(cast):
    reg = register(cast.iop, cast.program_admin)
    http = Client()
    return reg, http, bearer(http, reg, WRITE)


def _issues(response: Any) -> list[str]:
    data = parse(response)
    assert data["resourceType"] == "OperationOutcome"
    return [issue["details"]["text"] for issue in data["issue"]]


def _denied(reg: Any, action: str) -> int:
    return AuditEvent.objects.filter(
        acting_as=f"fhir_client:{reg.client.pk}", action=action, outcome="denied"
    ).count()


def test_an_appointment_posted_twice_is_stored_once(cast, writer):
    reg, http, auth = writer
    patient = cast.patient.patient
    first = send(http, "post", "Appointment", appointment(patient), auth)
    assert first.status_code == 201, first.content
    assert first["Location"].startswith("http://testserver/fhir/R4/Appointment/")
    again = send(http, "post", "Appointment", appointment(patient), auth)
    assert again.status_code == 200
    assert again["Location"] == first["Location"]
    stored = Appointment.objects.get(external_system=EHR, external_id="A-1001")
    assert Appointment.objects.filter(external_id="A-1001").count() == 1
    assert stored.starts_at == _start() and stored.location == "Room 4"
    assert stored.clinician == cast.assigned_clinician.staff_member
    assert Attendance.objects.get(appointment=stored).patient == patient
    # The patient's schedule shows it, and the EHR reads it back as an Appointment.
    attendance_id = first["Location"].rsplit("/", 1)[1]
    read = bearer(http, reg, "system/Appointment.read")
    data = parse(http.get(f"{BASE}/Appointment/{attendance_id}", **read))
    assert dt.datetime.fromisoformat(data["start"]) == _start()
    created = AuditEvent.objects.filter(
        patient=patient, action="create", object_type="scheduling.appointment"
    ).get()
    assert (
        created.actor_role == "fhir_client" and created.acting_as == f"fhir_client:{reg.client.pk}"
    )


def test_an_appointment_for_an_unknown_patient_is_422_and_nothing_is_stored(cast, writer):
    reg, http, auth = writer
    response = send(
        http,
        "post",
        "Appointment",
        appointment(cast.patient.patient, reference="Patient/999999"),
        auth,
    )
    assert response.status_code == 422
    assert any("record number" in text for text in _issues(response))
    assert not Appointment.objects.filter(external_id="A-1001").exists()
    assert _denied(reg, "create") == 1


def test_an_appointment_without_a_time_zone_is_400(cast, writer):
    reg, http, auth = writer
    body = appointment(cast.patient.patient)
    body["start"] = body["start"][:19]  # 2026-12-08T15:00:00, no offset
    response = send(http, "post", "Appointment", body, auth)
    assert response.status_code == 400
    assert "time zone" in _issues(response)[0]
    assert not Appointment.objects.exists()
    assert _denied(reg, "create") == 1


def test_a_double_booking_is_409(cast, writer):
    _, http, auth = writer
    patient = cast.patient.patient
    assert send(http, "post", "Appointment", appointment(patient), auth).status_code == 201
    clash = appointment(
        patient,
        value="A-1002",
        start=_start() + dt.timedelta(minutes=20),
        clinician="uri.clinician@example.org",
    )
    response = send(http, "post", "Appointment", clash, auth)
    assert response.status_code == 409
    assert any("already booked" in text for text in _issues(response))
    assert Appointment.objects.count() == 1


def test_an_appointment_in_the_past_or_with_an_unknown_clinician_is_422(cast, writer):
    _, http, auth = writer
    patient = cast.patient.patient
    past = appointment(patient, start=timezone.now() - dt.timedelta(days=2))
    assert send(http, "post", "Appointment", past, auth).status_code == 422
    stranger = appointment(patient, clinician="nobody@example.org")
    assert send(http, "post", "Appointment", stranger, auth).status_code == 422
    no_identifier = appointment(patient)
    del no_identifier["identifier"]
    assert send(http, "post", "Appointment", no_identifier, auth).status_code == 422
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    "body",
    ["not json", {"resourceType": "Patient"}, {"resourceType": "Appointment", "status": "nope"}],
)
def test_a_malformed_appointment_is_400(cast, writer, body):
    _, http, auth = writer
    response = send(http, "post", "Appointment", body, auth)
    assert response.status_code == 400
    assert _issues(response)
    assert not Appointment.objects.exists()


def test_put_changes_the_session_and_patients_see_it_changed(cast, writer):
    _, http, auth = writer
    patient = cast.patient.patient
    created = send(http, "post", "Appointment", appointment(patient), auth)
    attendance_id = created["Location"].rsplit("/", 1)[1]
    later = appointment(patient, start=_start(hour=17))
    response = send(http, "put", f"Appointment/{attendance_id}", later, auth)
    assert response.status_code == 200, response.content
    stored = Appointment.objects.get()
    assert stored.starts_at == _start(hour=17) and stored.changed_at is not None
    assert AuditEvent.objects.filter(
        patient=patient, action="update", object_type="scheduling.appointment"
    ).exists()
    assert send(http, "put", "Appointment/999999", later, auth).status_code == 404
    other = appointment(patient, value="B-9")
    assert send(http, "put", f"Appointment/{attendance_id}", other, auth).status_code == 409


def test_conditional_update_by_identifier_creates_then_updates(cast, writer):
    _, http, auth = writer
    patient = cast.patient.patient
    url = f"Appointment?identifier={EHR}|C-7"
    body = appointment(patient, value="C-7")
    assert send(http, "put", url, body, auth).status_code == 201
    moved = appointment(patient, value="C-7", start=_start(days=4))
    assert send(http, "put", url, moved, auth).status_code == 200
    stored = Appointment.objects.get()
    assert stored.external_id == "C-7" and stored.starts_at == _start(days=4)
    mismatch = appointment(patient, value="other")
    assert send(http, "put", url, mismatch, auth).status_code == 400


def test_a_read_only_token_cannot_write(cast):
    reg = register(cast.iop, cast.program_admin)
    http = Client()
    auth = bearer(http, reg, "system/*.read")
    response = send(http, "post", "Appointment", appointment(cast.patient.patient), auth)
    assert response.status_code == 403
    assert parse(response)["resourceType"] == "OperationOutcome"
    assert not Appointment.objects.exists()
    assert AuditEvent.objects.filter(
        acting_as=f"fhir_client:{reg.client.pk}", outcome="denied"
    ).exists()


def test_a_write_scope_beyond_the_grant_is_refused(cast):
    reg = register(cast.iop, cast.program_admin, scopes="system/*.read")
    response = Client().post(
        f"{BASE}/auth/token",
        {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": __import__(
                "tether.fhir.tests.helpers", fromlist=["assertion"]
            ).assertion(reg),
            "scope": "system/Appointment.write",
        },
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"


def test_another_organizations_client_cannot_book_our_patient(cast):
    from tether.organizations.models import Program

    elsewhere = Program.objects.get(organization=cast.other_organization)
    reg = register(elsewhere, cast.other_org_clinician)
    http = Client()
    auth = bearer(http, reg, WRITE)
    response = send(http, "post", "Appointment", appointment(cast.patient.patient), auth)
    assert response.status_code == 422
    assert not Appointment.objects.exists()


def test_a_part2_patient_without_consent_is_answered_like_an_unknown_one(cast, recovery):
    program, patient = recovery
    reg = register(program, cast.program_admin)
    http = Client()
    auth = bearer(http, reg, WRITE)
    body = appointment(patient, reference=f"Patient/{patient.pk}")
    refused = send(http, "post", "Appointment", body, auth)
    unknown = send(
        http, "post", "Appointment", appointment(patient, reference="Patient/999999"), auth
    )
    assert refused.status_code == unknown.status_code == 422
    assert not Appointment.objects.exists()
    consent_part2(patient, reg.client.recipient)
    cast.assigned_clinician.staff_member.programs.add(program)
    allowed = send(http, "post", "Appointment", body, auth)
    assert allowed.status_code == 201, allowed.content


# --- Patient demographics ---------------------------------------------------------------


def patient_body(patient: Patient, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "identifier": [
            {
                "system": f"urn:tether:organization:{patient.organization_id}:record-number",
                "value": patient.record_number,
            }
        ],
        "name": [{"use": "official", "family": "Garcia-Lopez", "given": ["Maria"]}],
        "birthDate": "1990-05-18",
        "telecom": [{"system": "phone", "value": "555-0199", "use": "mobile"}],
    }
    body.update(changes)
    return body


@pytest.fixture
def demographics_writer(cast):
    reg = register(cast.iop, cast.program_admin)
    http = Client()
    return reg, http, bearer(http, reg, "system/Patient.write")


def test_the_ehr_updates_a_known_patients_name_birth_date_and_phone(cast, demographics_writer):
    reg, http, auth = demographics_writer
    patient = cast.patient.patient
    response = send(http, "put", f"Patient/{patient.pk}", patient_body(patient), auth)
    assert response.status_code == 200, response.content
    patient.refresh_from_db()
    assert patient.last_name == "Garcia-Lopez"
    assert patient.date_of_birth == dt.date(1990, 5, 18)
    assert patient.mobile_phone == "555-0199"
    event = AuditEvent.objects.get(patient=patient, action="update", object_type="patients.patient")
    assert event.acting_as == f"fhir_client:{reg.client.pk}"
    # By identifier too; the same details again change nothing and add no event.
    url = f"Patient?identifier=urn:tether:organization:{patient.organization_id}:record-number|{patient.record_number}"
    body = patient_body(patient)
    del body["id"]
    assert send(http, "put", url, body, auth).status_code == 200
    assert AuditEvent.objects.filter(patient=patient, action="update").count() == 1


def test_patient_update_refuses_unknown_patients_and_record_number_changes(
    cast, demographics_writer
):
    _, http, auth = demographics_writer
    patient = cast.patient.patient
    body = patient_body(patient, id="999999")
    assert send(http, "put", "Patient/999999", body, auth).status_code == 404
    moved = patient_body(patient)
    moved["identifier"][0]["value"] = "MRN-other"
    assert send(http, "put", f"Patient/{patient.pk}", moved, auth).status_code == 422
    no_name = patient_body(patient, name=[])
    assert send(http, "put", f"Patient/{patient.pk}", no_name, auth).status_code == 422
    future = patient_body(patient, birthDate="2999-01-01")
    assert send(http, "put", f"Patient/{patient.pk}", future, auth).status_code == 422
    adolescent = cast.adolescent.patient  # another program's patient: unknown here
    other = patient_body(adolescent)
    assert send(http, "put", f"Patient/{adolescent.pk}", other, auth).status_code == 404
    patient.refresh_from_db()
    assert patient.last_name == "Garcia"
    assert send(http, "post", "Patient", patient_body(patient), auth).status_code == 405


def test_a_malformed_search_is_audited(cast):
    reg = register(cast.iop, cast.program_admin)
    http = Client()
    auth = bearer(http, reg)
    response = http.get(f"{BASE}/Observation", {"date": "yesterday"}, **auth)
    assert response.status_code == 400
    assert _denied(reg, "disclose") == 1
