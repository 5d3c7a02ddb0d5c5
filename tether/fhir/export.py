"""Bulk Data ``$export`` (FHIR Bulk Data Access IG): a Group (one program) exported as
NDJSON, one file per resource type, by the worker.

``export_kick_off`` records the job and enqueues ``tasks.run_export``; ``export_run``
writes the files with the same rows and filter as a search (``search.KINDS`` and
``gate.system_release_condition``: Part 2 only under a consent naming the client's
recipient), in chunks, recording each chunk's release (audit, Part 2 disclosures with
the notice) in the chunk's transaction. Files are encrypted at rest (``ExportFile``).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from tether.fhir import release, search
from tether.fhir.models import ExportFile, ExportJob, FhirClient
from tether.privacy import gate

CHUNK = 500


class ExportRefused(ValueError):
    pass


def export_kick_off(
    *,
    client: FhirClient,
    scopes: frozenset[str],
    group_id: str,
    types: list[str],
    request_url: str,
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
            requested_at=now or timezone.now(),
        )
        from tether.fhir.tasks import run_export

        transaction.on_commit(lambda: run_export.enqueue(job.pk))
    return job


def export_run(*, job: ExportJob) -> ExportJob:
    client = job.client
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING)
    base = "urn:tether:fhir"  # references inside the files are relative (Patient/<id>)
    patients: set[int] = set()
    withheld = 0
    for resource_type in job.types.split(","):
        kind = search.KINDS[resource_type]
        rows = kind.rows(client)
        released = rows.filter(
            gate.system_release_condition(client.recipient, patient_field=kind.patient_field)
        )
        withheld += rows.count() - released.count()
        lines: list[str] = []
        last = 0
        while True:
            chunk = list(released.filter(pk__gt=last)[:CHUNK])
            if not chunk:
                break
            last = chunk[-1].pk
            part2 = search.part2_ids({search.patient_of(row) for row in chunk})
            built = kind.build(chunk, part2, base)
            with transaction.atomic():
                release.release(
                    request=None,
                    client=client,
                    resources=built,
                    part2=part2,
                    base_category=kind.category,
                )
            patients.update(search.patient_of(row) for row in chunk)
            lines.extend(r.model_dump_json(exclude_none=True) for r in built)
        ExportFile.objects.update_or_create(
            job=job,
            resource_type=resource_type,
            defaults={"count": len(lines), "content": "\n".join(lines) + ("\n" if lines else "")},
        )
    job.status = ExportJob.Status.COMPLETE
    job.finished_at = timezone.now()
    job.patients = len(patients)
    job.withheld = withheld
    job.save(update_fields=["status", "finished_at", "patients", "withheld"])
    return job
