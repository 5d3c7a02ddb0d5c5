"""Benchmark: how long does ``manage.py verify_audit`` take on a large audit trail?

Builds a scratch database, fills it with N synthetic audit events (1,000,000 by
default) spread over several organizations' chains, with hashes computed by the
same code the writer uses (then bulk-loaded: COPY on PostgreSQL), and times
``manage.py verify_audit`` on it in a separate process (wall time, events per
second, peak RSS). It also times the real writer, ``audit.record``, for a few
thousand events. The scratch database is dropped at the end unless --keep.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tether \\
        uv run python scripts/bench_verify_audit.py --events 1000000

The PostgreSQL scratch database is ``tether_bench`` on the same server as
DATABASE_URL (created and dropped here; it must not exist already unless
--replace). Without a PostgreSQL DATABASE_URL it uses a scratch SQLite file.
This is a benchmark, not a test: docs/BENCHMARKS.md records its results.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import resource
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "tether_bench"


def _bench_url(source: str, replace: bool) -> str:
    parts = urlsplit(source)
    if parts.scheme.startswith("postgres"):
        import psycopg

        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]
            ).fetchone()
            if exists and not replace:
                sys.exit(f"database {BENCH_DB} exists; pass --replace to drop it first")
            conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
            conn.execute(f"CREATE DATABASE {BENCH_DB}")
        return urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
    path = ROOT / "var" / "bench.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    return f"sqlite:///{path}"


def _drop(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme.startswith("postgres"):
        import psycopg

        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    else:
        Path(parts.path).unlink(missing_ok=True)


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")  # a scratch database; no secrets involved
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tether.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _people(organizations: int) -> list[tuple[int, list[tuple[int, str]], list[int]]]:
    """Organizations with staff (id, role) and patients (id)."""
    from tether.accounts.models import User
    from tether.organizations.models import Organization, StaffMember
    from tether.patients.models import Patient

    roles = [r.value for r in StaffMember.Role]
    result = []
    for n in range(organizations):
        org = Organization.objects.create(name=f"Bench org {n}", slug=f"bench-{n}")
        users = User.objects.bulk_create(
            User(
                username=f"bench{n}.staff{i}",
                kind=User.Kind.STAFF,
                organization=org,
                password="!",  # noqa: S106 - an unusable password
            )
            for i in range(20)
        )
        staff = [(u.pk, roles[i % len(roles)]) for i, u in enumerate(users)]
        patients = Patient.objects.bulk_create(
            Patient(
                organization=org,
                first_name="Bench",
                last_name=f"Patient {i}",
                date_of_birth=dt.date(1990, 1, 1),
                record_number=f"B{n}-{i}",
            )
            for i in range(200)
        )
        result.append((org.pk, staff, [p.pk for p in patients]))
    return result


COLUMNS = (
    "id",
    *(
        "chain_key",
        "organization_id",
        "occurred_at",
        "actor_id",
        "actor_role",
        "acting_as",
        "relation",
        "patient_id",
        "action",
        "category",
        "object_type",
        "object_id",
        "purpose",
        "client_address",
        "outcome",
    ),
    "entry_hash",
)
SEAL_COLUMNS = (
    "event_id",
    "chain_key",
    "sequence",
    "previous_hash",
    "row_hash",
    "version",
    "sealed_at",
)


Head = tuple[int, int, str, dt.datetime]  # chain key, last sequence, last hash, last time


def _generate(
    events: int,
    people: list[tuple[int, list[tuple[int, str]], list[int]]],
    heads: list[Head],
    seals: list[tuple[object, ...]],
) -> Iterator[tuple[object, ...]]:
    """Yield event rows in COLUMNS order, chain by chain, hashed and sealed like the
    writer and the sealer do (the seals go to ``seals``); append each chain's head to
    ``heads`` once its rows are out."""
    from tether.privacy import chain
    from tether.privacy.models import GENESIS_HASH

    assert COLUMNS[1:-1] == chain.ENTRY_FIELDS  # noqa: S101 - the bench writes what verify reads
    rng = random.Random(2026)  # noqa: S311 - synthetic data, not security
    actions = ["view"] * 8 + ["create", "update"]
    categories = ["general", "mental_health", "self_report", "part2"]
    purposes = ["TREAT", "TREAT", "TREAT", "HOPERAT", "PATRQT"]
    per_org = events // len(people)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    event_id = 0
    for index, (org_id, staff, patients) in enumerate(people):
        count = per_org + (events - per_org * len(people) if index == 0 else 0)
        previous = GENESIS_HASH
        when = start
        for sequence in range(1, count + 1):
            event_id += 1
            when += dt.timedelta(microseconds=rng.randrange(1, 3_000_000))
            actor_id, role = staff[rng.randrange(len(staff))]
            values = (
                org_id,
                org_id,
                when,
                actor_id,
                role,
                "",
                "care_team",
                patients[rng.randrange(len(patients))],
                actions[rng.randrange(len(actions))],
                categories[rng.randrange(len(categories))],
                "",
                "",
                purposes[rng.randrange(len(purposes))],
                f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                "denied" if rng.random() < 0.03 else "allowed",
            )
            entry = chain.entry_hash_of(values)
            row_hash = chain.seal_hash(
                previous, chain_key=org_id, sequence=sequence, event_id=event_id, entry=entry
            )
            seals.append((event_id, org_id, sequence, previous, row_hash, 2, when))
            yield (event_id, *values, entry)
            previous = row_hash
        heads.append((org_id, count, previous, when))


def _load_table(
    url: str, table: str, columns: tuple[str, ...], rows: Iterable[tuple[object, ...]]
) -> int:
    from django.db import connection, transaction

    loaded = 0
    if urlsplit(url).scheme.startswith("postgres"):
        with connection.cursor() as wrapper:
            raw = wrapper.cursor
            with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    loaded += 1
    else:
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - fixed names
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        )
        batch = []
        with transaction.atomic(), connection.cursor() as cursor:
            for row in rows:
                batch.append(row)
                if len(batch) == 10_000:
                    cursor.executemany(sql, batch)
                    loaded += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                loaded += len(batch)
    return loaded


def _load(url: str, rows: Iterator[tuple[object, ...]], seals: list[tuple[object, ...]]) -> int:
    from django.db import connection

    loaded = _load_table(url, "privacy_auditevent", COLUMNS, rows)
    _load_table(url, "privacy_auditseal", SEAL_COLUMNS, seals)
    if urlsplit(url).scheme.startswith("postgres"):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('privacy_auditevent', 'id'), %s)", [loaded]
            )
    return loaded


def _set_heads(heads: list[Head]) -> None:
    from tether.privacy.models import AuditChainHead

    AuditChainHead.objects.bulk_create(
        AuditChainHead(
            chain_key=org_id,
            organization_id=org_id,
            last_sequence=count,
            last_hash=last_hash,
            last_occurred_at=when,
        )
        for org_id, count, last_hash, when in heads
    )


def _time_writer(samples: int, *, one_transaction: bool) -> float:
    """Events per second through the real writer (two inserts per event, no lock), each
    event committed on its own or all in one transaction."""
    from django.db import transaction

    from tether.accounts.models import User
    from tether.patients.models import Patient
    from tether.privacy import audit
    from tether.privacy.models import AuditEvent, Purpose
    from tether.privacy.policy import Action, Category

    patient = Patient.objects.order_by("pk").first()
    actor = User.objects.filter(organization_id=patient.organization_id).first()
    started = time.perf_counter()
    with transaction.atomic() if one_transaction else contextlib.nullcontext():
        for _ in range(samples):
            audit.record(
                request=None,
                actor=actor,
                patient=patient,
                action=Action.VIEW,
                category=Category.GENERAL,
                purpose=Purpose.TREATMENT,
                outcome=AuditEvent.Outcome.ALLOWED,
            )
    return samples / (time.perf_counter() - started)


def _verify(url: str) -> tuple[float, int, str]:
    env = {**os.environ, "DATABASE_URL": url}
    started = time.perf_counter()
    result = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [sys.executable, str(ROOT / "manage.py"), "verify_audit"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if result.returncode != 0:
        sys.exit(f"verify_audit failed ({result.returncode}):\n{result.stderr}")
    return elapsed, peak_kib, result.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--organizations", type=int, default=10)
    parser.add_argument("--writer-samples", type=int, default=2000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--replace", action="store_true", help="drop an existing tether_bench")
    args = parser.parse_args()

    source = os.environ.get("DATABASE_URL", "")
    url = _bench_url(source, args.replace)
    try:
        _setup_django(url)
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        people = _people(args.organizations)

        started = time.perf_counter()
        heads: list[Head] = []
        seals: list[tuple[object, ...]] = []
        loaded = _load(url, _generate(args.events, people, heads, seals), seals)
        _set_heads(heads)
        generated = time.perf_counter() - started
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE privacy_auditevent")
        connection.close()

        seconds, peak_kib, summary = _verify(url)
        writer_alone = _time_writer(args.writer_samples, one_transaction=False)
        writer_batched = _time_writer(args.writer_samples, one_transaction=True)

        print(f"database:            {connection.vendor} ({connection.settings_dict['NAME']})")
        print(f"events:              {loaded:,} in {args.organizations} organization chains")
        print(f"generate + load:     {generated:.1f} s")
        print(f"verify_audit:        {seconds:.1f} s wall (process start included)")
        print(f"                     {loaded / seconds:,.0f} events/s")
        print(f"verify peak RSS:     {peak_kib / 1024:.0f} MiB")
        print(f"verify said:         {summary}")
        print(f"writer, one commit per event: {writer_alone:,.0f} events/s (one process)")
        print(f"writer, one transaction:      {writer_batched:,.0f} events/s (one process)")
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            _drop(url)


if __name__ == "__main__":
    main()
