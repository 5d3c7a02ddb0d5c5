"""Audited accesses per second for ONE organization, from several concurrent clients.

    DEBUG=1 uv run python scripts/bench_audit_append.py \
        --database postgres://postgres@127.0.0.1:5432/tether_bench_audit --clients 8

Each client is its own process with its own database connection. It records audit
events for one organization's patients as fast as it can for ``--seconds``, each in
a transaction that stays open ``--hold-ms`` after the event (the rest of a service's
work: 0 is a plain audited page view in autocommit). Prints events per second for
the organization. With a chain lock per organization (the design before sealing),
every event waits for the one before it to commit; without it, clients only share
the database's capacity. Sealing is not part of the figure: run ``seal_audit``
afterwards to time it (printed too).

Use a scratch database: it is migrated and filled with a small cast, not cleaned.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _setup(database: str) -> None:
    os.environ["DATABASE_URL"] = database
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tether.settings")
    os.environ.setdefault(
        "TETHER_FIELD_KEYS", "bench-2026:dGV0aGVyLXRlc3Qtb25seS1maWVsZC1rZXktMzJieXQ="
    )
    import django

    django.setup()


def _client(database: str, seconds: float, hold_ms: float, patient_ids: list[int], out) -> None:  # type: ignore[no-untyped-def]
    _setup(database)
    from django.db import connection, transaction

    from tether.accounts.models import User
    from tether.patients.models import Patient
    from tether.privacy import audit
    from tether.privacy.models import AuditEvent, Purpose
    from tether.privacy.policy import Action, Category

    patients = list(Patient.objects.filter(pk__in=patient_ids))
    actor = User.objects.filter(kind="staff").first()
    done = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        patient = patients[done % len(patients)]
        with transaction.atomic():
            audit.record(
                request=None,
                actor=actor,
                patient=patient,
                action=Action.VIEW,
                category=Category.GENERAL,
                purpose=Purpose.TREATMENT,
                outcome=AuditEvent.Outcome.ALLOWED,
            )
            if hold_ms:
                time.sleep(hold_ms / 1000)
        done += 1
    connection.close()
    out.put(done)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--hold-ms", type=float, default=0.0)
    args = parser.parse_args()
    _setup(args.database)
    from django.core.management import call_command

    from tether.patients.models import Patient
    from tether.testing.cast import build_cast

    call_command("migrate", verbosity=0)
    if not Patient.objects.exists():
        build_cast()
    organization_id = Patient.objects.values_list("organization_id", flat=True).first()
    patient_ids = list(
        Patient.objects.filter(organization_id=organization_id).values_list("pk", flat=True)
    )
    from django.db import connection

    connection.close()

    out: multiprocessing.Queue[int] = multiprocessing.Queue()
    processes = [
        multiprocessing.Process(
            target=_client, args=(args.database, args.seconds, args.hold_ms, patient_ids, out)
        )
        for _ in range(args.clients)
    ]
    for process in processes:
        process.start()
    counts = [out.get() for _ in processes]
    for process in processes:
        process.join()
    total = sum(counts)
    print(
        f"{args.clients} clients, one organization, hold {args.hold_ms:g} ms: "
        f"{total} events in {args.seconds:g} s = {total / args.seconds:.0f} events/s"
    )
    try:
        from tether.privacy.sealer import seal_pending
    except ImportError:
        return  # the design before sealing: events were chained as they were written
    started = time.monotonic()
    sealed = seal_pending()
    elapsed = time.monotonic() - started
    print(f"sealed {sealed} events in {elapsed:.2f} s = {sealed / max(elapsed, 1e-9):.0f} events/s")


if __name__ == "__main__":
    main()
