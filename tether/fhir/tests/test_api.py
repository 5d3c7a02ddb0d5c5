"""The FHIR R4 read API: tokens, scopes, search, read, Part 2 labels and consent."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from tether.checkins.models import Response
from tether.consent.models import Disclosure
from tether.consent.notice import PART2_NOTICE
from tether.fhir.tests.helpers import (
    BASE,
    add_measure,
    bearer,
    consent_part2,
    parse,
    register,
    token_post,
)
from tether.patients.models import Episode, LevelOfCare, Patient
from tether.privacy.models import AuditEvent
from tether.testing.cast import make_patient

pytestmark = pytest.mark.django_db
PHQ9 = [2, 2, 1, 1, 1, 1, 1, 0, 1]  # total 10, item 9 "Several days"


def validate(data: dict[str, Any]) -> None:
    """Every resource returned validates with fhir.resources (R4B models)."""
    get_fhir_model_class(data["resourceType"]).model_validate(data)
    for entry in data.get("entry", []):
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def test_it_serves_a_capability_statement_without_a_token():
    data = parse(Client().get(f"{BASE}/metadata"))
    validate(data)
    assert data["fhirVersion"] == "4.0.1"
    assert {r["type"] for r in data["rest"][0]["resource"]} >= {"Patient", "Observation"}


def test_it_gives_a_registered_client_phq9_scores_the_patient_saw(cast):
    reg = register(cast.iop, cast.program_admin)
    patient = cast.patient.patient
    response = add_measure(patient, "phq9", PHQ9)
    http = Client()
    auth = bearer(http, reg)
    data = parse(http.get(f"{BASE}/Observation", {"patient": f"Patient/{patient.pk}"}, **auth))
    validate(data)
    by_code = {e["resource"]["code"]["coding"][0]["code"]: e["resource"] for e in data["entry"]}
    assert by_code["44261-6"]["valueInteger"] == response.total == 10
    assert by_code["44260-8"]["valueCodeableConcept"]["coding"][0]["code"] == "LA6569-3"
    assert "security" not in by_code["44261-6"].get("meta", {})
    event = AuditEvent.objects.filter(patient=patient, actor_role="fhir_client").last()
    assert event is not None
    assert event.acting_as == f"fhir_client:{reg.client.pk}"
    assert event.action == "disclose"
    assert event.actor_id is None


def test_it_reads_patient_questionnaire_response_and_appointment_resources(cast):
    reg = register(cast.iop, cast.program_admin)
    patient = cast.patient.patient
    response = add_measure(patient, "gad7", [1, 1, 1, 1, 1, 1, 1])
    http = Client()
    auth = bearer(http, reg)
    data = parse(http.get(f"{BASE}/Patient/{patient.pk}", **auth))
    validate(data)
    assert data["identifier"][0]["value"] == patient.record_number
    data = parse(http.get(f"{BASE}/QuestionnaireResponse/{response.pk}", **auth))
    validate(data)
    assert data["item"][0]["answer"][0]["valueCoding"]["code"] == "LA6569-3"
    data = parse(http.get(f"{BASE}/Observation", {"code": "http://loinc.org|70274-6"}, **auth))
    validate(data)
    assert [e["resource"]["valueInteger"] for e in data["entry"]] == [7]
    data = parse(http.get(f"{BASE}/Appointment", {"patient": f"Patient/{patient.pk}"}, **auth))
    validate(data)


def test_it_pages_with_next_links(cast):
    reg = register(cast.iop, cast.program_admin)
    patient = cast.patient.patient
    for days in (3, 10, 17):
        add_measure(patient, "phq9", PHQ9, days_ago=days)
    http = Client()
    auth = bearer(http, reg)
    data = parse(http.get(f"{BASE}/QuestionnaireResponse", {"_count": "2"}, **auth))
    assert data["total"] == 3 and len(data["entry"]) == 2
    next_url = next(link["url"] for link in data["link"] if link["relation"] == "next")
    data = parse(http.get(next_url, **auth))
    assert len(data["entry"]) == 1
    assert all(link["relation"] != "next" for link in data["link"])


def test_it_leaves_out_another_programs_patients(cast, recovery):
    reg = register(cast.iop, cast.program_admin)
    _, rae = recovery
    add_measure(rae, "phq9", PHQ9)
    http = Client()
    auth = bearer(http, reg)
    assert http.get(f"{BASE}/Patient/{rae.pk}", **auth).status_code == 404
    data = parse(http.get(f"{BASE}/Patient", **auth))
    assert rae.pk not in {int(e["resource"]["id"]) for e in data["entry"]}


def test_a_part2_observation_is_absent_without_consent_and_labelled_with_it(cast, recovery):
    program, rae = recovery
    reg = register(program, cast.program_admin)
    add_measure(rae, "phq9", PHQ9)
    assert Response.objects.get(patient=rae).record_category == "part2"
    http = Client()
    auth = bearer(http, reg)
    data = parse(http.get(f"{BASE}/Observation", {"patient": f"Patient/{rae.pk}"}, **auth))
    validate(data)
    kinds = [e["resource"]["resourceType"] for e in data["entry"]]
    assert kinds == ["OperationOutcome"]
    assert "withheld" in data["entry"][0]["resource"]["issue"][0]["details"]["text"]
    assert http.get(f"{BASE}/Patient/{rae.pk}", **auth).status_code == 404
    assert not Disclosure.objects.filter(patient=rae).exists()

    consent_part2(rae, reg.client.recipient)
    data = parse(http.get(f"{BASE}/Observation", {"patient": f"Patient/{rae.pk}"}, **auth))
    validate(data)
    observation = data["entry"][0]["resource"]
    assert observation["valueInteger"] == 10
    labels = {s["code"] for s in observation["meta"]["security"]}
    assert labels >= {"R", "42CFRPart2", "NORDSCLCD"}
    assert "42 CFR part 2" in observation["text"]["div"]
    disclosure = Disclosure.objects.get(patient=rae)
    assert disclosure.kind == Disclosure.Kind.FHIR_API
    assert disclosure.notice == PART2_NOTICE
    assert disclosure.fhir_client == reg.client
    assert disclosure.disclosed_by is None


def test_a_revoked_consent_withholds_again(cast, recovery):
    program, rae = recovery
    reg = register(program, cast.program_admin)
    add_measure(rae, "phq9", PHQ9)
    consent = consent_part2(rae, reg.client.recipient)
    consent.revoked_at = consent.signed_at
    consent.save(update_fields=["revoked_at"])
    http = Client()
    auth = bearer(http, reg)
    data = parse(http.get(f"{BASE}/Observation", **auth))
    assert [e["resource"]["resourceType"] for e in data["entry"]] == ["OperationOutcome"]


def test_it_refuses_calls_without_a_valid_token(cast):
    http = Client()
    response = http.get(f"{BASE}/Patient")
    assert response.status_code == 401
    assert parse(response)["resourceType"] == "OperationOutcome"
    response = http.get(f"{BASE}/Patient", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 401
    assert AuditEvent.objects.filter(outcome="denied", actor_role="system").exists()


def test_it_refuses_forged_expired_replayed_and_foreign_assertions(cast):
    from joserfc.jwk import ECKey

    reg = register(cast.iop, cast.program_admin)
    http = Client()
    forged = token_post(http, reg, key=ECKey.generate_key("P-384", private=True, auto_kid=True))
    assert forged.status_code == 401 and forged.json()["error"] == "invalid_client"
    assert token_post(http, reg, exp_in=-300).status_code == 401
    assert token_post(http, reg, exp_in=3600).status_code == 401
    assert token_post(http, reg, aud="https://elsewhere.example/token").status_code == 401
    assert token_post(http, reg, jti="same").status_code == 200
    assert token_post(http, reg, jti="same").status_code == 401
    assert token_post(http, reg, iss="someone-else").status_code == 401
    reg.client.is_active = False
    reg.client.save(update_fields=["is_active"])
    assert token_post(http, reg).status_code == 401


def test_it_refuses_scopes_beyond_the_grant(cast):
    reg = register(cast.iop, cast.program_admin, scopes="system/Patient.read")
    http = Client()
    response = token_post(http, reg, scope="system/Observation.read")
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"
    auth = bearer(http, reg, scope="system/Patient.read")
    assert http.get(f"{BASE}/Patient", **auth).status_code == 200
    assert http.get(f"{BASE}/Observation", **auth).status_code == 403


def test_a_deactivated_clients_token_stops_working(cast):
    reg = register(cast.iop, cast.program_admin)
    http = Client()
    auth = bearer(http, reg)
    reg.client.is_active = False
    reg.client.save(update_fields=["is_active"])
    assert http.get(f"{BASE}/Patient", **auth).status_code == 401


@pytest.mark.parametrize(
    "query",
    [
        {"date": "2026-02-31"},
        {"date": "ge2026-01-01T10:00"},
        {"patient": "Group/1"},
        {"_count": "-1"},
        {"unknown": "1"},
        {"code": "http://snomed.info/sct|123"},
        {"_id": "abc"},
    ],
)
def test_it_answers_malformed_searches_with_400(cast, query):
    reg = register(cast.iop, cast.program_admin)
    http = Client()
    auth = bearer(http, reg)
    response = http.get(f"{BASE}/Observation", query, **auth)
    assert response.status_code == 400
    assert parse(response)["resourceType"] == "OperationOutcome"


def test_it_searches_by_date(cast):
    reg = register(cast.iop, cast.program_admin)
    patient = cast.patient.patient
    add_measure(patient, "phq9", PHQ9, days_ago=3)
    add_measure(patient, "phq9", PHQ9, days_ago=30)
    http = Client()
    auth = bearer(http, reg)
    since = (timezone.localdate() - dt.timedelta(days=10)).isoformat()
    data = parse(http.get(f"{BASE}/QuestionnaireResponse", {"date": f"ge{since}"}, **auth))
    assert data["total"] == 1


def test_the_patient_list_is_the_programs_patients(cast):
    reg = register(cast.iop, cast.program_admin)
    http = Client()
    auth = bearer(http, reg)
    data = parse(http.get(f"{BASE}/Patient", **auth))
    validate(data)
    ids = {int(e["resource"]["id"]) for e in data["entry"]}
    in_iop = set(Episode.objects.filter(program=cast.iop).values_list("patient_id", flat=True))
    assert ids == in_iop
    assert not ids & set(
        Patient.objects.exclude(organization=cast.organization).values_list("pk", flat=True)
    )
    assert LevelOfCare.IOP  # the cast's episodes


def _queries(http: Client, url: str, auth: dict[str, Any]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert http.get(url, **auth).status_code == 200
    return len(queries)


def test_a_search_page_takes_the_same_queries_for_more_patients(cast):
    reg = register(cast.iop, cast.program_admin)
    http = Client()
    auth = bearer(http, reg)
    add_measure(cast.patient.patient, "phq9", PHQ9)
    few = _queries(http, f"{BASE}/Observation", auth)
    for n in range(4):
        user = make_patient(cast.organization, cast.iop, f"p{n}", first_name="P", last_name=f"N{n}")
        add_measure(user.patient, "phq9", PHQ9)
    many = _queries(http, f"{BASE}/Observation", auth)
    assert many == few
