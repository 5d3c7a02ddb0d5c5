"""Time a bulk FHIR $export of the largest program (docs/BENCHMARKS.md).

Run against a copy of the big data set (it writes a client, a job, audit events):
    createdb -h 127.0.0.1 -U postgres -T tether_big10k tether_fhir_big
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tether_fhir_big DEBUG=1 \\
        .venv/bin/python manage.py migrate
    DATABASE_URL=... DEBUG=1 .venv/bin/python scripts/bench_fhir_export.py

It prints the time of ``export_run`` (the worker's task body), the peak of Python
allocations during it (tracemalloc, which slows the run a little) and the process's
peak RSS before and after.
"""

from __future__ import annotations

import os
import resource
import sys
import time
import tracemalloc
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tether.settings")

import django

django.setup()

from django.db.models import Count, Sum  # noqa: E402
from django.db.models.functions import Length  # noqa: E402
from django.utils import timezone  # noqa: E402

from tether.accounts.models import User  # noqa: E402
from tether.consent.models import Recipient  # noqa: E402
from tether.fhir import auth  # noqa: E402
from tether.fhir.export import export_run  # noqa: E402
from tether.fhir.models import ExportJob, FhirClient  # noqa: E402
from tether.patients.models import Episode  # noqa: E402


def main() -> None:
    top = (
        Episode.objects.values("program_id", "program__organization_id")
        .annotate(n=Count("patient_id", distinct=True))
        .order_by("-n")
        .first()
    )
    if top is None:
        raise SystemExit("the database has no episodes")
    org_id, program_id = top["program__organization_id"], top["program_id"]
    admin = User.objects.filter(organization_id=org_id, kind=User.Kind.STAFF).first()
    recipient = Recipient.objects.create(
        organization_id=org_id, name="Benchmark EHR", kind="primary_care"
    )
    client = FhirClient.objects.create(
        organization_id=org_id,
        program_id=program_id,
        recipient=recipient,
        client_id=uuid.uuid4().hex,
        jwks={"keys": []},
        scopes=" ".join(auth.SCOPES),
        created_by=admin,
    )
    job = ExportJob.objects.create(
        organization_id=org_id,
        client=client,
        program_id=program_id,
        types="Patient,QuestionnaireResponse,Observation,Appointment",
        request_url="bench",
        requested_at=timezone.now(),
    )
    before = _peak_mib()
    tracemalloc.start()
    started = time.perf_counter()
    job = export_run(job=job)
    seconds = time.perf_counter() - started
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"program {program_id}: {top['n']} patients in the program")
    print(f"exported patients: {job.patients}, withheld rows: {job.withheld}")
    for f in (
        job.files.values("resource_type")
        .annotate(n=Sum("count"), parts=Count("pk"), chars=Sum(Length("content")))
        .order_by("resource_type")
    ):
        print(f"  {f['resource_type']}: {f['n']} resources in {f['parts']} parts")
    print(f"export_run: {seconds:.1f} s")
    print(f"peak Python allocations during the export (tracemalloc): {traced_peak / 2**20:.1f} MiB")
    print(f"process peak RSS: {before:.0f} MiB before the export, {_peak_mib():.0f} MiB after")


def _peak_mib() -> float:
    """The process's peak resident set size so far (Linux: ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
