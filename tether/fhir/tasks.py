"""Background work of the FHIR API (Django's tasks framework, database backend)."""

from __future__ import annotations

from django.tasks import task

from tether.fhir.export import export_run
from tether.fhir.models import ExportJob


@task()
def run_export(job_id: int) -> int:
    """Write one ``$export``'s NDJSON files; returns the number of patients."""
    job = ExportJob.objects.select_related("client__recipient").get(pk=job_id)
    if job.status == ExportJob.Status.COMPLETE:
        return job.patients
    try:
        return export_run(job=job).patients
    except Exception:
        ExportJob.objects.filter(pk=job_id).update(status=ExportJob.Status.FAILED)
        raise
