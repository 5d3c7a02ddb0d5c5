"""Bulk Data ``$export`` (FHIR Bulk Data Access IG): a Group (one program) exported as
NDJSON, one file per resource type, by the worker.

``export_kick_off`` records the job and enqueues ``tasks.run_export``; ``export_run``
writes the files with the same rows and filter as a search (``search.KINDS`` and
``gate.system_release_condition``: Part 2 only under a consent naming the client's
recipient), in chunks, recording each chunk's release (audit, Part 2 disclosures with
the notice) and writing it as one encrypted part of the file (``ExportFile``) in the
chunk's transaction; the download streams the parts as one NDJSON file.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tether.fhir import release, search
from tether.fhir.models import ExportFile, ExportJob, FhirClient
from tether.privacy import gate

CHUNK = 500
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


def export_run(*, job: ExportJob) -> ExportJob:
    """Write the job's files chunk by chunk: each chunk of rows (keyset paging by pk) is
    built, released (audit, Part 2 disclosures) and written as one encrypted part in
    one transaction, then dropped, so memory stays that of one chunk whatever the
    program's size."""
    client = job.client
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
        last = 0
        part = 0
        while True:
            chunk = list(released.filter(pk__gt=last)[:CHUNK])
            if not chunk:
                break
            last = chunk[-1].pk
            part2 = search.part2_ids({search.patient_of(row) for row in chunk})
            built = kind.build(chunk, part2, base)
            text = "".join(r.model_dump_json(exclude_none=True) + "\n" for r in built)
            with transaction.atomic():
                release.release(
                    request=None,
                    client=client,
                    resources=built,
                    part2=part2,
                    base_category=kind.category,
                )
                ExportFile.objects.create(
                    job=job, resource_type=resource_type, part=part, count=len(built), content=text
                )
            part += 1
            patients.update(search.patient_of(row) for row in chunk)
            del chunk, built, text
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
