"""Time bulk FHIR ``$export`` runs on the big data set (docs/BENCHMARKS.md).

    .venv/bin/python scripts/bench_fhir_export.py \\
        --database postgres://postgres@127.0.0.1:5432/tether_big10k \\
        [--programs all|largest] [--consent-part2 0.5] [--keep]

It runs in the benchmark environment (scripts/bench_env.py: the data set's field keys,
DEBUG off as on the worker, so Django keeps no log of the queries).

For each program exported (``all``: every program, so every patient of the data set; or
the largest), it registers a client (a new recipient), runs ``export_run`` (the
worker's task body) for Patient, QuestionnaireResponse, Observation and Appointment,
and prints per type the resources written, the seconds and resources per second,
then the total, the process's peak RSS and the load average before and after.
``--consent-part2 F``: that share of a Part 2 program's patients first sign a Part 2
consent to the client's recipient (through ``consent_sign``), so Part 2 resources are
released, labelled, and recorded as disclosures; the rest stay withheld.

Nothing is left behind: everything (clients, consents, jobs, parts, audit events,
disclosures) is written in one transaction that is rolled back at the end, then the
tables written are vacuumed so their files shrink back. ``--keep`` commits instead
(only on a copy of the data set).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPTS.parent))
sys.path.insert(0, str(SCRIPTS))

import bench_env  # noqa: E402 - after the path is set


def _database_argument() -> str:
    """``--database URL``, read before Django is set up (argparse checks it again)."""
    for i, arg in enumerate(sys.argv):
        if arg.startswith("--database="):
            return arg.split("=", 1)[1]
        if arg == "--database" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
    raise SystemExit("usage: bench_fhir_export.py --database postgres://... (see its docstring)")


if __name__ == "__main__":
    bench_env.apply(_database_argument(), debug=False)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tether.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from tether.accounts.models import User  # noqa: E402
from tether.consent import services as consent_services  # noqa: E402
from tether.consent.models import ConsentDirective, Disclosure, Recipient  # noqa: E402
from tether.fhir import auth  # noqa: E402
from tether.fhir.export import Validation, export_run  # noqa: E402
from tether.fhir.models import ExportJob, FhirClient  # noqa: E402
from tether.organizations.models import Program  # noqa: E402
from tether.patients.models import Episode, Patient  # noqa: E402
from tether.privacy.models import AuditEvent, Purpose  # noqa: E402
from tether.privacy.policy import Category  # noqa: E402

TYPES = ["Patient", "QuestionnaireResponse", "Observation", "Appointment"]
WRITTEN_TABLES = [
    "fhir_exportfile",
    "fhir_exportjob",
    "fhir_fhirclient",
    "consent_recipient",
    "consent_consentdirective",
    "consent_disclosure",
    "privacy_auditevent",
    "privacy_auditpending",
]


class RolledBack(Exception):
    pass


class Clock:
    """Each type's resources and seconds, from ``export_run``'s word after each part."""

    def __init__(self) -> None:
        self.per_type: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        self.mark = time.perf_counter()

    def __call__(self, resource_type: str, count: int) -> None:
        now = time.perf_counter()
        self.per_type[resource_type][0] += count
        self.per_type[resource_type][1] += now - self.mark
        self.mark = now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="postgres://... (the data set)")
    parser.add_argument("--programs", choices=["all", "largest"], default="all")
    parser.add_argument("--consent-part2", type=float, default=0.0, metavar="SHARE")
    parser.add_argument("--keep", action="store_true", help="commit (on a copy only)")
    args = parser.parse_args()
    print("command:", " ".join(["python", *sys.argv]))
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    try:
        with transaction.atomic():
            _run(args)
            if not args.keep:
                raise RolledBack
    except RolledBack:
        print("rolled back: nothing written is kept")
        with connection.cursor() as cursor:
            for table in WRITTEN_TABLES:
                cursor.execute(f'VACUUM "{table}"')
        print("vacuumed:", ", ".join(WRITTEN_TABLES))
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


def _run(args: argparse.Namespace) -> None:
    programs = list(
        Episode.objects.values("program_id", "program__organization_id")
        .annotate(n=Count("patient_id", distinct=True))
        .order_by("-n")
    )
    if not programs:
        raise SystemExit("the database has no episodes")
    if args.programs == "largest":
        programs = programs[:1]
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    exported: set[int] = set()
    rss_before = _peak_mib()
    started_all = time.perf_counter()
    for top in programs:
        org_id, program_id = top["program__organization_id"], top["program_id"]
        program = Program.objects.get(pk=program_id)
        admin = User.objects.filter(organization_id=org_id, kind=User.Kind.STAFF).first()
        if admin is None:
            raise SystemExit(f"organization {org_id} has no staff to register a client")
        recipient = Recipient.objects.create(
            organization_id=org_id,
            name=f"Benchmark EHR {uuid.uuid4().hex[:6]}",
            kind="primary_care",
        )
        consented = 0
        if program.treats_substance_use and args.consent_part2 > 0:
            consented = _consent_part2(program, recipient, args.consent_part2)
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
            types=",".join(TYPES),
            request_url="bench",
            requested_at=timezone.now(),
        )
        job = ExportJob.objects.select_related("client__recipient").get(pk=job.pk)
        clock = Clock()
        per_type = clock.per_type
        validation = Validation()
        audit_before = AuditEvent.objects.count()
        started = time.perf_counter()
        job = export_run(job=job, validation=validation, progress=clock)
        seconds = time.perf_counter() - started
        exported.update(
            Episode.objects.filter(program_id=program_id).values_list("patient_id", flat=True)
        )
        written = sum(int(n) for n, _ in per_type.values())
        print(
            f"\nprogram {program_id} {program.name!r} (Part 2: {program.treats_substance_use}): "
            f"{top['n']} patients, {consented} with a Part 2 consent to the client"
        )
        print(f"  exported patients: {job.patients}, withheld rows: {job.withheld}")
        for resource_type in TYPES:
            n, s = per_type[resource_type]
            totals[resource_type][0] += n
            totals[resource_type][1] += s
            rate = f"{n / s:,.0f}/s" if s else "-"
            print(f"  {resource_type}: {int(n):,} in {s:,.1f} s ({rate})")
        print(
            f"  export_run: {seconds:,.1f} s, {written:,} resources ({written / seconds:,.0f}/s); "
            f"parts {job.files.count()}, audit events {AuditEvent.objects.count() - audit_before}, "
            f"Part 2 disclosures {Disclosure.objects.filter(fhir_client=client).count()}, "
            f"validated {validation.validated:,} of {validation.count:,} with fhir.resources"
        )
    seconds = time.perf_counter() - started_all
    written = sum(int(n) for n, _ in totals.values())
    print(f"\nall {len(programs)} program(s): {len(exported):,} patients")
    for resource_type in TYPES:
        n, s = totals[resource_type]
        print(f"  {resource_type}: {int(n):,} in {s:,.1f} s ({n / s if s else 0:,.0f}/s)")
    print(f"  total: {written:,} resources in {seconds:,.1f} s ({written / seconds:,.0f}/s)")
    print(
        f"  process peak RSS: {rss_before:.0f} MiB before the exports, {_peak_mib():.0f} MiB after"
    )


def _consent_part2(program: Program, recipient: Recipient, share: float) -> int:
    """``share`` of the program's patients sign a Part 2 consent to ``recipient``."""
    ids = sorted(set(Episode.objects.filter(program=program).values_list("patient_id", flat=True)))
    step = max(1, round(1 / share))
    count = 0
    for patient in Patient.objects.filter(pk__in=ids[::step]).select_related("user"):
        if patient.user is None:
            continue
        consent_services.consent_sign(
            patient=patient,
            signed_by=patient.user,
            recipient=recipient,
            category=Category.PART2,
            description="Measure scores and attendance",
            purpose=Purpose.TREATMENT,
            discloser=program.name,
            expires_on=timezone.localdate() + dt.timedelta(days=90),
            signature_name=f"{patient.first_name} {patient.last_name}",
            signed_via=ConsentDirective.SignedVia.PORTAL,
        )
        count += 1
    return count


def _peak_mib() -> float:
    """The process's peak resident set size so far (Linux: ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
