"""Time the reminder sweep for a large caseload on PostgreSQL.

    DEBUG=1 uv run python scripts/bench_reminder_sweep.py \
        --database postgres://postgres@127.0.0.1:5432/tether_outreach_bench --patients 100000

Use a scratch database: it is filled, not cleaned. One program asks a daily check-in;
every patient has an active episode and a contact preference with texts agreed to (the
console backend: nothing leaves the machine). A tenth have a session tomorrow, a tenth
homework due tomorrow. The sweep runs at 18:00 program time three times:

1. the first queues every reminder (bodies rendered, checked and encrypted; one audit
   event each; handed to the console backend after the commit);
2. the second, five minutes later, is the steady state: everything is already sent,
   nothing is queued;
3. then at 22:00 (quiet hours): candidates are found and all dropped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import zoneinfo
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--patients", type=int, default=100_000)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tether.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    from tether.checkins.models import ProgramInstrument
    from tether.checkins.sync import sync_instruments
    from tether.organizations.models import Organization, Program
    from tether.outreach.models import ContactPreference, OutboundMessage
    from tether.outreach.sweep import reminders_sweep
    from tether.patients.models import Episode, LevelOfCare, Patient

    tz = zoneinfo.ZoneInfo("America/New_York")
    day = dt.date(2026, 11, 26)
    t0 = time.perf_counter()
    sync_instruments()
    org = Organization.objects.create(name="Bench", slug=f"bench-{int(time.time())}")
    program = Program.objects.create(
        organization=org, name="Bench IOP", kind="iop", crisis_line="555-0100"
    )
    ProgramInstrument.objects.create(
        organization=org, program=program, instrument_code="daily", schedule="daily"
    )
    n, tag = args.patients, org.slug
    patients = Patient.objects.bulk_create(
        [
            Patient(
                organization=org,
                first_name="P",
                last_name=str(i),
                date_of_birth=dt.date(1990, 1, 1),
                record_number=f"{tag}-{i}",
            )
            for i in range(n)
        ],
        batch_size=5000,
    )
    Episode.objects.bulk_create(
        [
            Episode(
                organization=org,
                patient=p,
                program=program,
                level_of_care=LevelOfCare.IOP,
                admitted_on=day - dt.timedelta(days=20),
            )
            for p in patients
        ],
        batch_size=5000,
    )
    opted = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    ContactPreference.objects.bulk_create(
        [
            ContactPreference(
                organization=org,
                patient=p,
                sms_phone=f"+1413555{i % 10000:04d}",
                by_sms=True,
                sms_opted_in_at=opted,
            )
            for i, p in enumerate(patients)
        ],
        batch_size=5000,
    )
    print(f"set-up: {n} patients in {time.perf_counter() - t0:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    for label, moment in (
        ("first sweep (queues everything)", dt.datetime.combine(day, dt.time(18, 0), tz)),
        ("second sweep (steady state)", dt.datetime.combine(day, dt.time(18, 5), tz)),
        ("quiet hours (22:00)", dt.datetime.combine(day, dt.time(22, 0), tz)),
    ):
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            counts = reminders_sweep(now=moment)
            took = time.perf_counter() - started
        print(f"{label}: {took:.2f} s, {len(queries)} queries, queued {counts}")
    print("messages stored:", OutboundMessage.objects.filter(organization=org).count())


if __name__ == "__main__":
    main()
