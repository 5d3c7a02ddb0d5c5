"""Time the schedule import's preview and import of a 1,000-row CSV and a 1,000-event .ics.

    DEBUG=1 uv run python scripts/bench_import.py \
        --database postgres://postgres@127.0.0.1:5432/tether_bench_import --rows 1000 --runs 3

Through the real page (``/staff/schedule/import/``, the test client signed in as the
front desk): upload, read, check every row against the schedule, render the preview;
then the confirm step, which checks again and saves every session and booking in one
transaction. Prints each run's seconds and query count (the audit trail's inserts
included) and the median.

The rows: ``--patients`` patients of the program (default 20) and its four clinicians,
one 50-minute session an hour, so no row clashes. Use a scratch database: it is
migrated and given the test cast once; the program's sessions are deleted before
each run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
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


def _slots(program, rows: int) -> list[dt.datetime]:  # type: ignore[no-untyped-def]
    from django.utils import timezone

    start = timezone.now().astimezone(program.tzinfo).replace(
        minute=0, second=0, microsecond=0
    ) + dt.timedelta(days=1)
    return [start + dt.timedelta(hours=n) for n in range(rows)]


def csv_file(program, mrns: list[str], emails: list[str], rows: int) -> bytes:  # type: ignore[no-untyped-def]
    lines = ["record_number,date,start,minutes,kind,clinician_email,room,video_link"]
    for n, at in enumerate(_slots(program, rows)):
        kind = "family" if n % 5 == 0 else "individual"
        lines.append(
            f"{mrns[n % len(mrns)]},{at.date().isoformat()},{at.strftime('%H:%M')},50,{kind},"
            f"{emails[n % len(emails)]},Office {n % 7},https://video.example.org/s{n}"
        )
    return ("\n".join(lines) + "\n").encode()


def ics_file(program, mrns: list[str], emails: list[str], rows: int) -> bytes:  # type: ignore[no-untyped-def]
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Bench//Tether import//EN"]
    for n, at in enumerate(_slots(program, rows)):
        utc = at.astimezone(dt.UTC)
        lines += [
            "BEGIN:VEVENT",
            f"UID:bench-{n}@example.org",
            f"DTSTAMP:{utc:%Y%m%dT%H%M%SZ}",
            f"DTSTART;TZID={program.time_zone}:{at:%Y%m%dT%H%M%S}",
            "DURATION:PT50M",
            "SUMMARY:" + ("Family session" if n % 5 == 0 else "Individual session"),
            f"DESCRIPTION:MRN: {mrns[n % len(mrns)]}",
            f"ORGANIZER:mailto:{emails[n % len(emails)]}",
            f"LOCATION:Office {n % 7}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--patients", type=int, default=20)
    args = parser.parse_args()
    _setup(args.database)
    import base64

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from tether.accounts.models import User
    from tether.organizations.models import Organization, Program, StaffMember
    from tether.patients.models import Patient
    from tether.scheduling.models import Appointment, Attendance
    from tether.testing.cast import build_cast, make_patient, sign_in

    call_command("migrate", verbosity=0)
    if not Organization.objects.filter(slug="riverbend").exists():
        build_cast()
    program = Program.objects.get(organization__slug="riverbend", name="Adult IOP")
    for n in range(Patient.objects.filter(episodes__program=program).count(), args.patients):
        make_patient(
            program.organization, program, f"bench.p{n}", first_name=f"Bench{n}", last_name="P"
        )
    mrns = list(
        Patient.objects.filter(episodes__program=program, episodes__status="active")
        .order_by("pk")
        .values_list("record_number", flat=True)[: args.patients]
    )
    emails = list(
        StaffMember.objects.filter(
            programs=program, is_active=True, role__in=StaffMember.CLINICAL_ROLES
        )
        .order_by("pk")
        .values_list("user__email", flat=True)
    )
    desk = User.objects.get(username="fran.desk")
    url = reverse("scheduling:import")
    files = {
        "csv": ("sessions.csv", csv_file(program, mrns, emails, args.rows)),
        "ics": ("sessions.ics", ics_file(program, mrns, emails, args.rows)),
    }
    print(
        f"{args.rows} rows, {len(mrns)} patients, {len(emails)} clinicians, "
        f"{args.runs} runs each (PostgreSQL, test client, full page)"
    )
    for fmt, (name, data) in files.items():
        timings: dict[str, list[float]] = {"preview": [], "import": []}
        queries: dict[str, list[int]] = {"preview": [], "import": []}
        for _run in range(args.runs):
            Attendance.objects.filter(appointment__program=program).delete()
            Appointment.objects.filter(program=program).delete()
            client = sign_in(Client(HTTP_HOST="localhost"), desk)
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                preview = client.post(
                    url,
                    {
                        "program": program.pk,
                        "step": "preview",
                        "file": SimpleUploadedFile(name, data),
                    },
                )
                timings["preview"].append(time.perf_counter() - began)
            if preview.status_code != 200:
                raise SystemExit(f"{fmt} preview: {preview.status_code}")
            queries["preview"].append(len(captured))
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                done = client.post(
                    url,
                    {
                        "program": program.pk,
                        "step": "import",
                        "format": fmt,
                        "content": base64.b64encode(data).decode(),
                    },
                )
                timings["import"].append(time.perf_counter() - began)
            if done.status_code != 302:
                raise SystemExit(f"{fmt} import: {done.status_code}")
            queries["import"].append(len(captured))
            saved = Appointment.objects.filter(program=program).count()
            if saved != args.rows:
                raise SystemExit(f"{fmt}: {saved} sessions saved, expected {args.rows}")
        for step in ("preview", "import"):
            runs = ", ".join(f"{t:.2f}" for t in timings[step])
            print(
                f"{fmt:>3} {step:<7} ({len(data) // 1024} KB): median "
                f"{statistics.median(timings[step]):.2f} s (runs {runs}); "
                f"queries {sorted(set(queries[step]))}"
            )
    Attendance.objects.filter(appointment__program=program).delete()
    Appointment.objects.filter(program=program).delete()


if __name__ == "__main__":
    main()
