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
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument(
        "--existing",
        action="store_true",
        help="load nothing: time the sweeps on the database as it is (a copy of a big one, "
        "built by scripts/bench_dataset.py: served with the benchmark environment)",
    )
    parser.add_argument(
        "--page-views",
        action="store_true",
        help="with --existing: while the first sweep runs, request an audited staff page "
        "(demo.clinician's patient overview) over and over from another thread, and report "
        "how long each took and whether any waited on a lock",
    )
    parser.add_argument(
        "--rollback",
        action="store_true",
        help="with --existing: run the sweeps (and the one-patient evaluations) in one "
        "transaction rolled back at the end: the shared data set is left as it was",
    )
    args = parser.parse_args()
    if args.existing:
        import bench_env

        bench_env.apply(args.database, debug=False)
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
        watcher = PageViews() if args.page_views else None

        def run() -> None:
            _time_sweeps(
                now,
                Flag.objects.all(),
                Patient.objects.all(),
                flags_sweep,
                flags_evaluate_patient,
                watcher=watcher,
            )

        if not args.rollback:
            run()
            return
        from django.db import transaction

        try:
            with transaction.atomic():
                run()
                raise _RolledBack
        except _RolledBack:
            print("rolled back: the database is as it was")
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


class _RolledBack(Exception):
    pass


class PageViews:
    """An audited staff page requested again and again from its own thread (its own
    database connection) while the first sweep runs; a third thread samples
    pg_stat_activity for sessions waiting on a lock (``wait_event_type = 'Lock'``)."""

    def __init__(self) -> None:
        import threading

        from tether.accounts.models import User
        from tether.patients.models import CareTeamMember

        self.user = User.objects.get(username="demo.clinician")
        patient_id = (
            CareTeamMember.objects.filter(
                staff_member__user=self.user, ended_on__isnull=True, episode__status="active"
            )
            .order_by("pk")
            .values_list("episode__patient_id", flat=True)
            .first()
        )
        if patient_id is None:
            raise SystemExit("demo.clinician has no patient in this database")
        self.path = f"/staff/patients/{patient_id}/"
        self.stop = threading.Event()
        self.samples: list[float] = []
        self.baseline: list[float] = []
        self.lock_waits: list[tuple[str, float]] = []
        self._threads: list[threading.Thread] = []

    def _client(self):  # type: ignore[no-untyped-def]
        from django.test import Client

        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(self.user)
        return client

    def _view(self, client, into: list[float]) -> None:  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        page = client.get(self.path, secure=True)
        into.append(time.perf_counter() - t0)
        if page.status_code != 200:
            raise SystemExit(f"{self.path}: {page.status_code}")

    def measure_baseline(self, rounds: int = 5) -> None:
        import threading

        from django.db import connection

        def views() -> None:
            client = self._client()
            try:
                for _ in range(rounds):
                    self._view(client, self.baseline)
            finally:
                connection.close()

        # Its own thread, hence its own connection: the sweep's (with --rollback, its
        # open transaction) is not closed under it.
        thread = threading.Thread(target=views)
        thread.start()
        thread.join()

    def _loop(self) -> None:
        from django.db import connection

        client = self._client()
        try:
            while not self.stop.is_set():
                self._view(client, self.samples)
        finally:
            connection.close()

    def _watch_locks(self) -> None:
        from django.db import connection

        try:
            with connection.cursor() as cursor:
                while not self.stop.is_set():
                    cursor.execute(
                        "SELECT left(query, 60), extract(epoch FROM now() - query_start) "
                        "FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock'"
                    )
                    self.lock_waits.extend(cursor.fetchall())
                    time.sleep(0.05)
        finally:
            connection.close()

    def start(self) -> None:
        import threading

        self._threads = [
            threading.Thread(target=self._loop, daemon=True),
            threading.Thread(target=self._watch_locks, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join()

    def report(self) -> None:
        def line(values: list[float]) -> str:
            values = sorted(values)
            if not values:
                return "no samples"
            return (
                f"{len(values)} views, median {values[len(values) // 2] * 1000:.0f} ms, "
                f"max {values[-1] * 1000:.0f} ms"
            )

        print(f"page view {self.path} before the sweep: {line(self.baseline)}")
        print(f"page view {self.path} during the first sweep: {line(self.samples)}")
        longest = max((float(w) for _q, w in self.lock_waits), default=0.0)
        print(
            f"sessions seen waiting on a lock during the first sweep: {len(self.lock_waits)} "
            f"samples, longest {longest:.2f} s"
            + (f" ({self.lock_waits[0][0]!r} ...)" if self.lock_waits else "")
        )


def _time_sweeps(  # type: ignore[no-untyped-def]
    now, flags, patients, flags_sweep, flags_evaluate_patient, watcher=None
) -> None:
    if watcher is not None:
        watcher.measure_baseline()
        watcher.start()
    t1 = time.perf_counter()
    try:
        raised = flags_sweep(now=now)
    finally:
        if watcher is not None:
            watcher.finish()
    first = time.perf_counter() - t1
    if watcher is not None:
        watcher.report()
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
