"""Bulk $export: kick-off, the worker's run, status and NDJSON download."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from tether.consent.models import ConsentDirective, Disclosure
from tether.consent.notice import PART2_NOTICE
from tether.fhir import export
from tether.fhir.models import ExportJob
from tether.fhir.tasks import run_export
from tether.fhir.tests.helpers import BASE, add_measure, bearer, consent_part2, register
from tether.fhir.tests.test_api import PHQ9
from tether.privacy.models import AuditEvent
from tether.privacy.policy import Action
from tether.scheduling.models import Appointment, Attendance
from tether.testing.cast import make_patient

pytestmark = pytest.mark.django_db
ASYNC: dict[str, Any] = {"HTTP_PREFER": "respond-async"}


def _export(http: Client, auth: dict[str, Any], group: int, **query: str) -> Any:
    return http.get(f"{BASE}/Group/{group}/$export", query, **auth, **ASYNC)


def _run_and_download(
    http: Client, auth: dict[str, Any], response: Any
) -> dict[str, list[dict[str, Any]]]:
    assert response.status_code == 202
    status_url = response["Content-Location"]
    assert http.get(status_url, **auth).status_code == 202
    job = ExportJob.objects.get()
    run_export.call(job.pk)
    manifest = http.get(status_url, **auth).json()
    assert manifest["requiresAccessToken"] is True
    files: dict[str, list[dict[str, Any]]] = {}
    for output in manifest["output"]:
        body = http.get(output["url"], **auth)
        assert body["Content-Type"] == "application/fhir+ndjson"
        text = b"".join(body.streaming_content).decode()  # type: ignore[attr-defined]
        lines = [json.loads(line) for line in text.splitlines() if line]
        assert len(lines) == output["count"]
        for line in lines:
            get_fhir_model_class(line["resourceType"]).model_validate(line)
        files[output["type"]] = lines
    return files


def test_it_exports_a_programs_patients_as_ndjson(cast, django_capture_on_commit_callbacks):
    reg = register(cast.iop, cast.program_admin)
    add_measure(cast.patient.patient, "phq9", PHQ9)
    http = Client()
    auth = bearer(http, reg)
    with django_capture_on_commit_callbacks(execute=True):
        response = _export(http, auth, cast.iop.pk)
    files = _run_and_download(http, auth, response)
    assert {p["id"] for p in files["Patient"]} >= {str(cast.patient.patient.pk)}
    assert [o["valueInteger"] for o in files["Observation"] if o["id"].endswith("-total")] == [10]


def test_part2_patients_are_exported_only_under_consent(
    cast,
    recovery,
    django_capture_on_commit_callbacks,
):
    program, rae = recovery
    reg = register(program, cast.program_admin)
    add_measure(rae, "phq9", PHQ9)
    http = Client()
    auth = bearer(http, reg)
    files = _run_and_download(http, auth, _export(http, auth, program.pk))
    assert all(not lines for lines in files.values())
    assert ExportJob.objects.get().withheld > 0

    consent_part2(rae, reg.client.recipient)
    ExportJob.objects.all().delete()
    files = _run_and_download(http, auth, _export(http, auth, program.pk))
    patient = files["Patient"][0]
    assert {s["code"] for s in patient["meta"]["security"]} >= {"42CFRPart2", "NORDSCLCD"}
    assert Disclosure.objects.filter(patient=rae, kind="fhir_api").exists()


def test_it_refuses_another_group_and_missing_prefer(cast):
    reg = register(cast.iop, cast.program_admin)
    http = Client()
    auth = bearer(http, reg)
    assert _export(http, auth, cast.adolescent_iop.pk).status_code == 404
    assert http.get(f"{BASE}/Group/{cast.iop.pk}/$export", **auth).status_code == 400
    assert _export(http, auth, cast.iop.pk, _type="Medication").status_code == 403
    assert not ExportJob.objects.exists()


def test_another_client_cannot_read_the_status_or_files(cast):
    reg = register(cast.iop, cast.program_admin)
    other = register(cast.iop, cast.program_admin)
    http = Client()
    response = _export(http, bearer(http, reg), cast.iop.pk)
    job = ExportJob.objects.get()
    run_export.call(job.pk)
    other_auth = bearer(http, other)
    assert http.get(response["Content-Location"], **other_auth).status_code == 404
    assert (
        http.get(f"{BASE}/$export-file/{job.key}/Patient.ndjson", **other_auth).status_code == 404
    )
    assert http.get(response["Content-Location"]).status_code == 401


def test_a_file_written_in_parts_downloads_as_one_ndjson_file(cast, monkeypatch):
    from tether.fhir.models import ExportFile

    for n in range(3):
        make_patient(cast.organization, cast.iop, f"p{n}", first_name=f"P{n}", last_name="Lee")
    monkeypatch.setattr(export, "CHUNK", 2)
    reg = register(cast.iop, cast.program_admin)
    http = Client()
    auth = bearer(http, reg)
    files = _run_and_download(http, auth, _export(http, auth, cast.iop.pk, _type="Patient"))
    ids = [int(p["id"]) for p in files["Patient"]]
    assert len(ids) == 5 and ids == sorted(ids)  # Maria, Tom and three more, in order
    assert ExportFile.objects.filter(resource_type="Patient").count() == 3  # 2 + 2 + 1


def test_since_exports_only_measures_submitted_after_it(cast):
    reg = register(cast.iop, cast.program_admin)
    add_measure(cast.patient.patient, "phq9", PHQ9, days_ago=10)
    recent = add_measure(cast.patient.patient, "phq9", PHQ9, days_ago=1)
    http = Client()
    auth = bearer(http, reg)
    assert recent.submitted_at is not None
    since = (recent.submitted_at - dt.timedelta(days=2)).isoformat()
    response = _export(http, auth, cast.iop.pk, _since=since, _type="QuestionnaireResponse")
    files = _run_and_download(http, auth, response)
    assert [r["id"] for r in files["QuestionnaireResponse"]] == [str(recent.pk)]


def test_since_without_an_offset_is_400(cast):
    reg = register(cast.iop, cast.program_admin)
    http = Client()
    auth = bearer(http, reg)
    response = _export(http, auth, cast.iop.pk, _since="2026-01-01T00:00:00")
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
    assert not ExportJob.objects.exists()


def _attend(patient: Any, program: Any, clinician: Any = None, *, days_ago: int = 4) -> None:
    """A group session the patient attended (test data, as the scheduling tests make it)."""
    starts = timezone.now() - dt.timedelta(days=days_ago)
    session = Appointment.objects.create(
        organization=patient.organization,
        program=program,
        kind=Appointment.Kind.GROUP,
        title="Skills group",
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=90),
        clinician=clinician,
    )
    Attendance.objects.create(
        organization=patient.organization,
        appointment=session,
        patient=patient,
        episode=patient.episodes.get(program=program),
        status=Attendance.Status.ATTENDED,
    )


def test_every_line_is_what_its_validated_model_writes(cast, recovery):
    """The export writes the builders' JSON as is; each line reads exactly as the
    ``fhir.resources`` model of it writes itself (the API's answer), Part 2 or not."""
    program, rae = recovery
    add_measure(rae, "phq9", PHQ9)
    add_measure(rae, "gad7", [1, 1, 1, 1, 1, 1, 1], days_ago=2)
    _attend(rae, program, cast.assigned_clinician.staff_member)
    reg = register(program, cast.program_admin)
    consent_part2(rae, reg.client.recipient)
    http = Client()
    auth = bearer(http, reg)
    files = _run_and_download(http, auth, _export(http, auth, program.pk))
    assert {t: len(lines) for t, lines in files.items()} == {
        "Patient": 1,
        "QuestionnaireResponse": 2,
        "Observation": 3,  # two totals and PHQ-9 item 9
        "Appointment": 1,
    }
    for lines in files.values():
        for line in lines:
            model = get_fhir_model_class(line["resourceType"]).model_validate(line)
            assert json.loads(model.model_dump_json(exclude_none=True)) == line
            assert {s["code"] for s in line["meta"]["security"]} >= {"42CFRPart2", "NORDSCLCD"}


def test_part2_release_is_one_event_and_one_disclosure_per_patient_per_part(cast, recovery):
    program, rae = recovery
    sam = make_patient(cast.organization, program, "sam.r", first_name="Sam", last_name="Ruiz")
    ned = make_patient(cast.organization, program, "ned.r", first_name="Ned", last_name="Ng")
    for patient in (rae, sam.patient, ned.patient):
        add_measure(patient, "phq9", PHQ9, days_ago=5)
        add_measure(patient, "phq9", PHQ9, days_ago=2)
    reg = register(program, cast.program_admin)
    consent_part2(rae, reg.client.recipient)
    consent_part2(sam.patient, reg.client.recipient)
    http = Client()
    auth = bearer(http, reg)
    files = _run_and_download(http, auth, _export(http, auth, program.pk))
    consented = {rae.pk, sam.patient.pk}
    assert {int(p["id"]) for p in files["Patient"]} == consented
    assert {r["subject"]["reference"] for r in files["QuestionnaireResponse"]} == {
        f"Patient/{pk}" for pk in consented
    }
    assert f"Patient/{ned.patient.pk}" not in json.dumps(files)
    assert ExportJob.objects.get().withheld == 1 + 2 + 2  # Ned's Patient, responses, totals
    # One part per type (all under CHUNK rows): an event and a disclosure per patient each.
    events = AuditEvent.objects.filter(
        acting_as=f"fhir_client:{reg.client.pk}", action=Action.DISCLOSE, patient__isnull=False
    )
    assert sorted(events.values_list("patient_id", "object_type")) == sorted(
        (pk, f"fhir.{t.lower()}")
        for pk in consented
        for t in ("Patient", "QuestionnaireResponse", "Observation")
    )
    assert set(events.values_list("category", flat=True)) == {"part2"}
    disclosures = Disclosure.objects.filter(fhir_client=reg.client)
    assert disclosures.count() == 6 and {d.patient_id for d in disclosures} == consented
    for disclosure in disclosures:
        assert disclosure.notice == PART2_NOTICE
        lines = [json.loads(line) for line in disclosure.content.splitlines()]
        # The part's resources of one type: the Patient; both responses; both totals and
        # both item 9 Observations.
        counts = {"Patient": 1, "QuestionnaireResponse": 2, "Observation": 4}
        assert len(lines) == counts[lines[0]["resourceType"]]
        assert all(line["meta"]["security"] for line in lines)


def test_parts_hold_a_patients_rows_together_whatever_order_they_were_made(cast, monkeypatch):
    from tether.fhir import export

    maria, tom = cast.patient.patient, cast.other_patient.patient
    made = [add_measure(p, "phq9", PHQ9, days_ago=d) for d in (6, 5, 4) for p in (maria, tom)]
    monkeypatch.setattr(export, "CHUNK", 3)
    reg = register(cast.iop, cast.program_admin)
    http = Client()
    auth = bearer(http, reg)
    response = _export(http, auth, cast.iop.pk, _type="QuestionnaireResponse")
    files = _run_and_download(http, auth, response)
    order = sorted(made, key=lambda r: (r.patient_id, r.pk))
    assert [int(r["id"]) for r in files["QuestionnaireResponse"]] == [r.pk for r in order]
    events = AuditEvent.objects.filter(
        acting_as=f"fhir_client:{reg.client.pk}", action=Action.DISCLOSE, patient__isnull=False
    )
    assert events.count() == 2  # a part of three per patient: one event each


def test_an_exports_queries_do_not_grow_with_its_rows(cast):
    reg = register(cast.iop, cast.program_admin)
    maria = cast.patient.patient
    add_measure(maria, "phq9", PHQ9, days_ago=9)
    _attend(maria, cast.iop, cast.assigned_clinician.staff_member, days_ago=9)

    def run() -> int:
        job = export.export_kick_off(
            client=reg.client,
            scopes=reg.client.granted,
            group_id=str(cast.iop.pk),
            types=[],
            request_url="test",
        )
        with CaptureQueriesContext(connection) as queries:
            run_export.call(job.pk)
        assert ExportJob.objects.get(pk=job.pk).status == ExportJob.Status.COMPLETE
        return len(queries)

    few = run()
    for days in (8, 7, 6, 5):
        add_measure(maria, "gad7", [1, 1, 1, 1, 1, 1, 1], days_ago=days)
        _attend(maria, cast.iop, cast.assigned_clinician.staff_member, days_ago=days)
    assert run() == few


def test_a_resource_that_does_not_validate_fails_the_export(cast, monkeypatch):
    from tether.fhir import resources

    built = resources.patient_data
    monkeypatch.setattr(
        resources,
        "patient_data",
        lambda patient, *, part2: {**built(patient, part2=part2), "birthDate": "soon"},
    )
    reg = register(cast.iop, cast.program_admin)
    job = export.export_kick_off(
        client=reg.client,
        scopes=reg.client.granted,
        group_id=str(cast.iop.pk),
        types=["Patient"],
        request_url="test",
    )
    with pytest.raises(ValidationError):
        run_export.call(job.pk)
    assert ExportJob.objects.get().status == ExportJob.Status.FAILED


def test_validation_checks_the_first_of_each_shape_and_one_in_every():
    check = export.Validation(every=3)
    for _ in range(6):
        check({"resourceType": "Patient", "id": "1"})
    assert check.validated == 3  # the first, the third and the sixth
    check({"resourceType": "Patient", "id": "2", "birthDate": "2000-01-02"})
    assert check.validated == 4  # a new shape
    with pytest.raises(ValidationError):
        check({"resourceType": "Patient", "birthDate": "soon"})


def test_a_disclosure_records_the_consent_in_force_not_a_newer_expired_one(cast, recovery):
    program, rae = recovery
    add_measure(rae, "phq9", PHQ9)
    reg = register(program, cast.program_admin)
    in_force = consent_part2(rae, reg.client.recipient)
    expired = consent_part2(rae, reg.client.recipient)
    ConsentDirective.objects.filter(pk=expired.pk).update(
        signed_at=in_force.signed_at + dt.timedelta(hours=1),
        expires_on=timezone.localdate() - dt.timedelta(days=1),
    )
    http = Client()
    auth = bearer(http, reg)
    files = _run_and_download(http, auth, _export(http, auth, program.pk, _type="Patient"))
    assert len(files["Patient"]) == 1
    assert [d.consent_id for d in Disclosure.objects.filter(fhir_client=reg.client)] == [
        in_force.pk
    ]
