"""Time the flag sweep for a large caseload on PostgreSQL.

    DEBUG=1 uv run python scripts/bench_flags_sweep.py \
        --database postgres://postgres@127.0.0.1:5432/tether_bench --patients 100000

Use a scratch database: it is filled, not cleaned. Patients, users and episodes are
bulk-created; two weeks of daily check-ins (mood) and two PHQ-9s per patient are
inserted with set-based SQL (generate_series), and a message thread per patient with
weekly care-team messages (about 600,000 messages at 100,000 patients). A share of
patients is given a rising PHQ-9, a falling mood, an old sign-in or unanswered
messages so the rules fire. The sweep runs
twice: the first raises (and audits) the new flags; the second is the steady state
the worker pays every 15 minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument(
        "--existing",
        action="store_true",
        help="load nothing: time the sweeps on the database as it is (a copy of a big one)",
    )
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tether.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from tether.accounts.models import User
    from tether.checkins.models import Instrument, ProgramInstrument
    from tether.checkins.sync import sync_instruments
    from tether.flags.models import Flag
    from tether.flags.services import flags_evaluate_patient, flags_sweep
    from tether.organizations.models import Organization, Program
    from tether.patients.models import Episode, LevelOfCare, Patient

    now = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
    if args.existing:
        from django.db.models import Max

        from tether.checkins.models import Response

        latest = Response.objects.aggregate(at=Max("submitted_at"))["at"]
        if latest is not None:
            now = latest + dt.timedelta(hours=1)
        print(f"existing data: {Patient.objects.count()} patients, sweeping at {now}")
        _time_sweeps(
            now, Flag.objects.all(), Patient.objects.all(), flags_sweep, flags_evaluate_patient
        )
        return
    t0 = time.perf_counter()
    sync_instruments()
    org = Organization.objects.create(name="Bench", slug=f"bench-{int(time.time())}")
    program = Program.objects.create(organization=org, name="Bench IOP", kind="iop")
    ProgramInstrument.objects.create(
        organization=org, program=program, instrument_code="daily", schedule="daily"
    )
    n = args.patients
    tag = org.slug
    User.objects.bulk_create(
        (
            User(
                username=f"{tag}-{i}",
                password="!",  # noqa: S106 - "!" is Django's unusable password
                kind=User.Kind.PATIENT,
                organization=org,
                last_login=now - dt.timedelta(days=(12 if i % 10 == 0 else i % 3)),
            )
            for i in range(n)
        ),
        batch_size=5000,
    )
    users = dict(User.objects.filter(organization=org).values_list("username", "pk"))
    Patient.objects.bulk_create(
        (
            Patient(
                organization=org,
                user_id=users[f"{tag}-{i}"],
                first_name="B",
                last_name=str(i),
                date_of_birth=dt.date(1990, 1, 1),
                record_number=f"B-{i}",
            )
            for i in range(n)
        ),
        batch_size=5000,
    )
    Episode.objects.bulk_create(
        (
            Episode(
                organization=org,
                patient_id=pk,
                program=program,
                level_of_care=LevelOfCare.IOP,
                admitted_on=(now - dt.timedelta(days=40)).date(),
            )
            for pk in Patient.objects.filter(organization=org).values_list("pk", flat=True)
        ),
        batch_size=5000,
    )
    daily = Instrument.objects.get(code="daily", is_current=True).pk
    phq9 = Instrument.objects.get(code="phq9", is_current=True).pk
    with connection.cursor() as cursor:
        # Daily check-ins for 14 days (patients with id % 7 == 0 skip the last 4 days;
        # id % 5 == 0 see their mood drop by 3 points in the last week).
        cursor.execute(
            """
            INSERT INTO checkins_response (organization_id, patient_id, episode_id,
                instrument_id, key, "window", status, started_at, expires_at, submitted_at,
                total, band, record_category)
            SELECT e.organization_id, e.patient_id, e.id, %s, gen_random_uuid(),
                'daily:' || d, 'complete', %s - d * interval '1 day',
                %s - d * interval '1 day' + interval '3 hours', %s - d * interval '1 day',
                NULL, '', 'self_report'
            FROM patients_episode e CROSS JOIN generate_series(1, 14) AS d
            WHERE e.program_id = %s AND NOT (e.patient_id %% 7 = 0 AND d <= 4)
            """,
            [daily, now, now, now, program.pk],
        )
        cursor.execute(
            """
            INSERT INTO checkins_answer (organization_id, response_id, item_code, value,
                answered_at)
            SELECT r.organization_id, r.id, 'mood',
                CASE WHEN r.patient_id %% 5 = 0 AND r.submitted_at > %s - interval '7 days'
                     THEN 3 ELSE 6 END,
                r.submitted_at
            FROM checkins_response r
            WHERE r.organization_id = %s AND r.instrument_id = %s
            """,
            [now, org.pk, daily],
        )
        cursor.execute(
            """
            INSERT INTO checkins_response (organization_id, patient_id, episode_id,
                instrument_id, key, "window", status, started_at, expires_at, submitted_at,
                total, band, record_category)
            SELECT e.organization_id, e.patient_id, e.id, %s, gen_random_uuid(),
                'weekly:' || d, 'complete', %s - d * interval '1 day',
                %s - d * interval '1 day' + interval '7 days', %s - d * interval '1 day',
                CASE WHEN d = 2 AND e.patient_id %% 11 = 0 THEN 19 ELSE 12 END, '', 'self_report'
            FROM patients_episode e CROSS JOIN (VALUES (30), (2)) AS w(d)
            WHERE e.program_id = %s
            """,
            [phq9, now, now, now, program.pk],
        )
        # One message thread per patient: the care team writes weekly (22, 15, 8 and 1
        # days ago); most patients answer each time, patients with id % 13 == 0 stopped
        # answering three weeks ago (the no_reply rule fires for them).
        cursor.execute(
            """
            INSERT INTO messaging_thread (organization_id, patient_id, kind, created_at,
                last_message_at, last_patient_message_at, last_team_message_at)
            SELECT e.organization_id, e.patient_id, 'patient', %s - interval '30 days',
                %s - interval '1 day',
                %s - (CASE WHEN e.patient_id %% 13 = 0 THEN 21 ELSE 7 END) * interval '1 day',
                %s - interval '1 day'
            FROM patients_episode e WHERE e.program_id = %s
            """,
            [now, now, now, now, program.pk],
        )
        cursor.execute(
            """
            INSERT INTO messaging_message (organization_id, thread_id, author_kind, body,
                auto_reply, created_at, marked_urgent, "trigger", trigger_phrase,
                record_category)
            SELECT t.organization_id, t.id, m.kind, '', '', %s - m.d * interval '1 day',
                false, '', '', 'shared'
            FROM messaging_thread t
            CROSS JOIN (VALUES ('staff', 22), ('staff', 15), ('staff', 8), ('staff', 1),
                               ('patient', 21), ('patient', 14), ('patient', 7)) AS m(kind, d)
            WHERE t.organization_id = %s
              AND NOT (t.patient_id %% 13 = 0 AND m.kind = 'patient' AND m.d < 21)
            """,
            [now, org.pk],
        )
        cursor.execute("ANALYZE")
    print(f"loaded {n} patients in {time.perf_counter() - t0:.0f} s")
    _time_sweeps(
        now,
        Flag.objects.filter(organization=org),
        Patient.objects.filter(organization=org),
        flags_sweep,
        flags_evaluate_patient,
    )


def _time_sweeps(now, flags, patients, flags_sweep, flags_evaluate_patient) -> None:  # type: ignore[no-untyped-def]
    t1 = time.perf_counter()
    raised = flags_sweep(now=now)
    first = time.perf_counter() - t1
    t2 = time.perf_counter()
    again = flags_sweep(now=now + dt.timedelta(minutes=15))
    second = time.perf_counter() - t2
    print(f"first sweep: {first:.1f} s, raised {sum(raised.values())} flags {raised}")
    print(f"steady-state sweep (no new flags): {second:.1f} s, raised {sum(again.values())}")
    print(f"open flags: {flags.filter(status='open').count()}")
    # The evaluation that runs when one patient's data arrives: the same queries,
    # restricted to that patient (tether.flags.tasks.evaluate_patient_flags).
    sample = list(patients.order_by("pk").values_list("pk", flat=True)[:20])
    times = []
    for pk in sample:
        t3 = time.perf_counter()
        flags_evaluate_patient(pk, now=now + dt.timedelta(minutes=30))
        times.append(time.perf_counter() - t3)
    times.sort()
    print(
        f"one patient's evaluation ({len(times)} patients): median "
        f"{times[len(times) // 2] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
