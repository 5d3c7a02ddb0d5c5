"""Bulk $export: kick-off, the worker's run, status and NDJSON download."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from fhir.resources.R4B import get_fhir_model_class

from tether.consent.models import Disclosure
from tether.fhir.models import ExportJob
from tether.fhir.tasks import run_export
from tether.fhir.tests.helpers import BASE, add_measure, bearer, consent_part2, register
from tether.fhir.tests.test_api import PHQ9

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
    from tether.fhir import export
    from tether.fhir.models import ExportFile
    from tether.testing.cast import make_patient

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
