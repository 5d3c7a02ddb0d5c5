"""Bulk Data ``$export`` (FHIR Bulk Data Access IG): a Group (one program) exported as
NDJSON, one file per resource type, by the worker.

``export_kick_off`` records the job and enqueues ``tasks.run_export``; ``export_run``
writes the files with the same rows and filter as a search (``search.KINDS`` and
``gate.system_release_condition``: Part 2 only under a consent naming the client's
recipient), in chunks, recording each chunk's release (audit, Part 2 disclosures with
the notice) and writing it as one encrypted part of the file (``ExportFile``) in the
chunk's transaction; the download streams the parts as one NDJSON file. The resources
are the API's builders' FHIR JSON, written as is; ``fhir.resources`` checks a sample
of them (``Validation``), since validating and serialising each through its model was
most of the time of a large export (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tether.fhir import release, resources, search
from tether.fhir.models import ExportFile, ExportJob, FhirClient
from tether.privacy import gate

CHUNK = 1000
# Besides the first resource of each shape, one in this many is validated (Validation).
VALIDATE_EVERY = 1000
# ``_since``: the field that says when a type's resource came to be (see since_filter).
SINCE_FIELDS = {"QuestionnaireResponse": "submitted_at", "Observation": "submitted_at"}


class ExportRefused(ValueError):
    pass


def export_kick_off(
    *,
    client: FhirClient,
    scopes: frozenset[str],
    group_id: str,
    types: list[str],
    request_url: str,
    since: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> ExportJob:
    """A job for the client's own program, or ``ExportRefused`` (another group, a type
    not served, a type outside the token's scopes)."""
    if not group_id.isdigit() or int(group_id) != client.program_id:
        raise ExportRefused("group")
    wanted = types or list(search.KINDS)
    caller_may = {
        t for t in search.KINDS if f"system/{t}.read" in scopes or "system/*.read" in scopes
    }
    if any(t not in search.KINDS for t in wanted) or not set(wanted) <= caller_may:
        raise ExportRefused("type")
    with transaction.atomic():
        job = ExportJob.objects.create(
            organization_id=client.organization_id,
            client=client,
            program_id=client.program_id,
            types=",".join(wanted),
            request_url=request_url[:500],
            since=since,
            requested_at=now or timezone.now(),
        )
        from tether.fhir.tasks import run_export

        transaction.on_commit(lambda: run_export.enqueue(job.pk))
    return job


def since_filter(kind: search.Kind, since: dt.datetime | None) -> Q:
    """``_since``: a measure's resources submitted at or after it. Patients and
    Appointments carry no time of their last change here, so they are exported whole."""
    if since is None or kind.name not in SINCE_FIELDS:
        return Q()
    return Q(**{f"{SINCE_FIELDS[kind.name]}__gte": since})


def _keyset(kind: search.Kind, after: tuple[int, int] | None) -> Q:
    """Rows after ``after`` (patient, pk) in the export's order: patient by patient,
    each patient's rows by pk, so a part holds a few patients' rows (one audit event
    and at most one disclosure per patient per part), whatever order rows were made in."""
    if after is None:
        return Q()
    patient, pk = after
    field = kind.patient_field
    if field == "pk":
        return Q(pk__gt=pk)
    # ``>=`` first lets the planner range-scan the patient index.
    return Q(**{f"{field}__gte": patient}) & (
        Q(**{f"{field}__gt": patient}) | Q(**{field: patient, "pk__gt": pk})
    )


def _shape(value: Any) -> Any:
    """A resource's structure (its keys, nested, and the types of its values; a list's
    distinct item shapes, whatever its length)."""
    if isinstance(value, dict):
        return tuple([(key, _shape(item)) for key, item in value.items()])
    if isinstance(value, list):
        return frozenset(_shape(item) for item in value)
    return type(value).__name__


class Validation:
    """Checks the export's resources with ``fhir.resources``: the first of each shape
    (every set of fields and codings a builder can produce, Part 2 labels or not) and
    then one in ``every``. Validating every one of a million resources was most of an
    export's time; the builders are the API's (whose every answer is validated), and
    the tests validate every line of every exported file. A resource that does not
    validate fails the export."""

    def __init__(self, every: int = VALIDATE_EVERY) -> None:
        self.every = every
        self.seen: set[Any] = set()
        self.count = 0
        self.validated = 0

    def __call__(self, data: dict[str, Any]) -> None:
        self.count += 1
        shape = _shape(data)
        if shape in self.seen and self.count % self.every:
            return
        self.seen.add(shape)
        resources.validated(data)
        self.validated += 1


def ndjson_line(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def _disclosed(lines: dict[int, list[str]], patient_id: int) -> str:
    """A patient's resources in a part, as a disclosure records them (one per line)."""
    return "".join(lines[patient_id]).rstrip("\n")


def export_run(
    *,
    job: ExportJob,
    validation: Validation | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> ExportJob:
    """Write the job's files part by part: each chunk of rows (keyset paging, patient
    by patient) is built as FHIR JSON, checked (``Validation``), released (audit, Part 2
    disclosures) and written as one encrypted part in one transaction, then dropped,
    so memory stays that of one chunk whatever the program's size. ``progress`` (a
    benchmark's) hears each part written: its type and count."""
    client = job.client
    check = validation or Validation()
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING)
    base = "urn:tether:fhir"  # references inside the files are relative (Patient/<id>)
    patients: set[int] = set()
    withheld = 0
    ExportFile.objects.filter(job=job).delete()  # a retried run starts again
    for resource_type in job.types.split(","):
        kind = search.KINDS[resource_type]
        rows = kind.rows(client).filter(since_filter(kind, job.since))
        released = rows.filter(
            gate.system_release_condition(client.recipient, patient_field=kind.patient_field)
        )
        withheld += rows.count() - released.count()
        if kind.patient_field != "pk":
            released = released.order_by(kind.patient_field, "pk")
        after: tuple[int, int] | None = None
        part = 0
        while True:
            chunk = list(released.filter(_keyset(kind, after))[:CHUNK])
            if not chunk:
                break
            after = (search.patient_of(chunk[-1]), chunk[-1].pk)
            part2 = search.part2_ids({search.patient_of(row) for row in chunk})
            lines: dict[int, list[str]] = defaultdict(list)  # each patient's, for a disclosure
            ordered: list[str] = []
            for data in kind.data(chunk, part2, base):
                check(data)
                patient_id = release.patient_of_json(data)
                if patient_id is None:  # every exported resource is about one patient
                    raise ValueError(f"{resource_type} {data.get('id')} names no patient")
                line = ndjson_line(data)
                lines[patient_id].append(line)
                ordered.append(line)
            with transaction.atomic():
                release.record_release(
                    request=None,
                    client=client,
                    object_types={pid: f"fhir.{resource_type.lower()}" for pid in lines},
                    part2=part2,
                    base_category=kind.category,
                    content_of=partial(_disclosed, lines),
                )
                ExportFile.objects.create(
                    job=job,
                    resource_type=resource_type,
                    part=part,
                    count=len(ordered),
                    content="".join(ordered),
                )
            part += 1
            if progress is not None:
                progress(resource_type, len(ordered))
            patients.update(lines)
            del chunk, lines, ordered
        if part == 0:  # an empty file is listed too, with no resources
            ExportFile.objects.create(
                job=job, resource_type=resource_type, part=0, count=0, content=""
            )
    job.status = ExportJob.Status.COMPLETE
    job.finished_at = timezone.now()
    job.patients = len(patients)
    job.withheld = withheld
    job.save(update_fields=["status", "finished_at", "patients", "withheld"])
    return job
