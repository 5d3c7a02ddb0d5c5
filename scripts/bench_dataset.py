"""Build the benchmark data set: the demo clinic plus N patients with a year of history.

    uv run python scripts/bench_dataset.py \
        --database postgres://postgres@127.0.0.1:5432/tether_big --patients 10000 --replace

It (re)creates the database, migrates it, builds the demo clinic (``seed_demo``: its
logins and its password, tether/demo/LOGINS.md) and then adds, with COPY:

- N patients in the demo's four programs, each with an active episode admitted about a
  year ago and a primary therapist; one generated clinician per 60 patients
  (``bench.clinician.K``) and ``demo.clinician``'s caseload filled up to 60;
- a year of daily check-ins with gaps (each patient their own adherence; mood, sleep and,
  in the substance-use program, craving), weekly PHQ-9 and GAD-7 on a trajectory
  (improving, flat or worsening) and a rare PHQ-9 item 9;
- weekly group sessions (12 patients a group) and fortnightly individual sessions with
  attendance, one individual session booked in the coming week per patient;
- a homework assignment every two weeks, a message thread with about two messages a
  week, a few flags a year (most closed), and audited accesses.

Everything comes from one seed (``--seed``); dates are counted back from the day it runs,
like the demo. The encrypted message bodies are written with the benchmark field key
(scripts/bench_env.py): serve the database with that environment (bench_pages.py does).
Audit events of the generated history are plain rows, not sealed into the chain: do not
run ``verify_audit`` on this database.

Only for scratch databases on a development machine: it drops the database it is given
with ``--replace``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import sys
import time
import uuid
import zoneinfo
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_env

CASELOAD = 60
GROUP_SIZE = 12
HISTORY_DAYS = 365
# Tables that receive millions of rows: their secondary indexes are dropped for the load
# and built again afterwards (one sort each instead of millions of insertions).
BIG_TABLES = (
    "checkins_response",
    "checkins_answer",
    "messaging_message",
    "scheduling_attendance",
    "scheduling_appointment",
    "privacy_auditevent",
    "homework_assignment",
)


def _admin_url(database_url: str) -> tuple[str, str]:
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    return urlunsplit(parts._replace(path="/postgres")), name


def create_database(database_url: str, *, replace: bool) -> None:
    import psycopg

    admin, name = _admin_url(database_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not replace:
            raise SystemExit(f"database {name} exists: pass --replace to build it again")
        if exists:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


# --- COPY helpers ---------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    return str(value)


class Loader:
    """COPY rows into one table; checks that every NOT NULL column is given."""

    def __init__(self, cursor: Any, table: str, columns: Sequence[str]) -> None:
        self.cursor = cursor
        self.table = table
        self.columns = list(columns)
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "AND is_nullable = 'NO' AND column_default IS NULL",
            [table],
        )
        required = {row[0] for row in cursor.fetchall()} - set(self.columns)
        if required:
            raise SystemExit(f"{table}: columns {sorted(required)} need a value")
        self.rows = 0

    def load(self, lines: Iterable[str]) -> int:
        """``lines``: already formatted COPY text lines (tab-separated, newline-ended)."""
        sql = f"COPY {self.table} ({', '.join(f'"{c}"' for c in self.columns)}) FROM STDIN"
        with self.cursor.copy(sql) as copy:
            buffer: list[str] = []
            size = 0
            for line in lines:
                buffer.append(line)
                size += 1
                if size >= 20_000:
                    copy.write("".join(buffer).encode())
                    self.rows += size
                    buffer, size = [], 0
            if buffer:
                copy.write("".join(buffer).encode())
                self.rows += size
        return self.rows


def row(*values: Any) -> str:
    return "\t".join(_text(v) for v in values) + "\n"


class Ids:
    """Ids handed out from each table's own sequence (set past them at the end)."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.next: dict[str, int] = {}

    def take(self, table: str, count: int) -> int:
        if table not in self.next:
            self.cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")  # noqa: S608 - our table names
            self.next[table] = self.cursor.fetchone()[0]
        first = self.next[table]
        self.next[table] = first + count
        return first

    def finish(self) -> None:
        for table, nxt in self.next.items():
            self.cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s, false)", [nxt]
            )


def drop_indexes(cursor: Any, tables: Sequence[str]) -> list[str]:
    """Drop the secondary indexes and unique constraints of ``tables``; their DDL."""
    statements: list[str] = []
    for table in tables:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'u'",
            [table],
        )
        for name, definition in cursor.fetchall():
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            statements.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT EXISTS ("
            "SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            [table],
        )
        for name, definition in cursor.fetchall():
            cursor.execute(f"DROP INDEX {name}")
            statements.append(definition)
    return statements


# --- The generated clinic -------------------------------------------------------------


class Clinic:
    """What the demo built that the generated rows refer to."""

    def __init__(self) -> None:
        from tether.checkins.models import Instrument
        from tether.demo import roster
        from tether.organizations.models import Organization, Program, StaffMember
        from tether.patients.models import CareTeamMember

        self.org = Organization.objects.get(slug=roster.ORGANIZATION_SLUG)
        self.tz = zoneinfo.ZoneInfo(roster.TIME_ZONE)
        self.programs = list(Program.objects.filter(organization=self.org).order_by("pk"))
        self.instruments = {
            i.code: i
            for i in Instrument.objects.filter(is_current=True, code__in=["daily", "phq9", "gad7"])
        }
        self.demo_clinician = StaffMember.objects.get(user__username="demo.clinician")
        self.demo_caseload = CareTeamMember.objects.filter(
            staff_member=self.demo_clinician, ended_on__isnull=True, episode__status="active"
        ).count()
        self.password = self.demo_clinician.user.password


def make_clinicians(clinic: Clinic, count: int) -> list[tuple[int, int, Any]]:
    """(staff member id, user id, program) for each generated clinician; ORM, few rows."""
    from tether.accounts.models import User
    from tether.organizations.models import StaffMember

    # Patients per program: weighted like a real service (IOP largest).
    weights = {"iop": 45, "php": 25, "recovery": 18, "adolescent": 12}
    programs = []
    for program in clinic.programs:
        key = next((k for k in weights if k in program.name.lower()), "iop")
        programs.append((program, weights.get(key, 10)))
    rng = random.Random("clinicians")  # noqa: S311 - repeatable, not secret
    made = []
    for k in range(count):
        program = rng.choices([p for p, _ in programs], [w for _, w in programs])[0]
        user = User.objects.create(
            username=f"bench.clinician.{k}",
            password=clinic.password,
            kind=User.Kind.STAFF,
            organization=clinic.org,
            first_name="Bench",
            last_name=f"Clinician {k}",
        )
        staff = StaffMember.objects.create(
            organization=clinic.org, user=user, role=StaffMember.Role.CLINICIAN, title="LCSW"
        )
        staff.programs.add(program)
        made.append((staff.pk, user.pk, program))
    return made


PHQ9_BANDS = (
    (4, "minimal"),
    (9, "mild"),
    (14, "moderate"),
    (19, "moderately_severe"),
    (27, "severe"),
)
GAD7_BANDS = ((4, "minimal"), (9, "mild"), (14, "moderate"), (21, "severe"))


def _band(total: int, bands: tuple[tuple[int, str], ...]) -> str:
    return next(code for top, code in bands if total <= top)


def _spread(total: int, items: int, rng: random.Random) -> list[int]:
    """Item values 0-3 summing to ``total``."""
    values = [0] * items
    left = total
    order = list(range(items))
    while left > 0:
        rng.shuffle(order)
        for i in order:
            if left and values[i] < 3:
                values[i] += 1
                left -= 1
    return values


def build(args: argparse.Namespace) -> None:
    from django.core.management import call_command
    from django.db import connection

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", force=True, verbosity=0)
    print(f"migrated and seeded the demo in {time.perf_counter() - t0:.0f} s", flush=True)
    n = args.patients
    if n == 0:
        return
    from tether.lib.crypto import key_ring

    clinic = Clinic()
    org = clinic.org.pk
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    today = now.astimezone(clinic.tz).date()
    demo_extra = max(CASELOAD - clinic.demo_caseload, 0)
    n_clinicians = math.ceil(max(n - demo_extra, 0) / CASELOAD)
    clinicians = make_clinicians(clinic, n_clinicians)
    demo_program = next(
        p for p in clinic.programs if "iop" in p.name.lower() and not p.treats_substance_use
    )
    # Each patient's clinician: demo.clinician's first, then 60 each.
    owners: list[tuple[int, int, Any]] = [
        (clinic.demo_clinician.pk, clinic.demo_clinician.user_id, demo_program)
    ] * min(demo_extra, n)
    for staff_id, user_id, program in clinicians:
        owners.extend([(staff_id, user_id, program)] * CASELOAD)
    owners = owners[:n]
    rng = random.Random(args.seed)  # noqa: S311 - repeatable, not secret

    def local(day: dt.date, hour: float) -> dt.datetime:
        return (
            dt.datetime.combine(day, dt.time(0), tzinfo=clinic.tz) + dt.timedelta(hours=hour)
        ).astimezone(dt.UTC)

    def ts(moment: dt.datetime) -> str:
        return moment.isoformat()

    days = [today - dt.timedelta(days=d) for d in range(HISTORY_DAYS, -1, -1)]
    day_starts = {d: local(d, 0) for d in days}
    day_ends = {d: local(d + dt.timedelta(days=1), 0) for d in days}
    # A pool of encrypted message bodies (each value is bound to its column).
    bodies_patient = [
        key_ring().encrypt(text, context="messaging_message.body")
        for text in (
            "Thanks, see you Tuesday.",
            "Had a rough night but I'm OK.",
            "Can we move my session?",
            "The breathing exercise helped.",
        )
    ]
    bodies_staff = [
        key_ring().encrypt(text, context="messaging_message.body")
        for text in (
            "How did the week go?",
            "Reminder: group on Tuesday at 6.",
            "Thanks for checking in today.",
            "Your new worksheet is ready.",
        )
    ]
    # Encrypted columns cannot hold a plain "": one encrypted empty value for each.
    empty = {
        column: key_ring().encrypt("", context=column)
        for column in (
            "messaging_message.trigger_phrase",
            "flags_flag.action_note",
            "flags_flag.snooze_reason",
            "homework_assignment.note",
            "homework_assignment.feedback",
        )
    }
    from tether.homework.library import builtin_library

    library = builtin_library()
    hw_key = sorted(library)[0]
    hw_title = library[hw_key].title
    hw_definition = json.dumps(library[hw_key].raw)

    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # the psycopg cursor, for its COPY API
        cursor.execute("SET session_replication_role = replica")  # no FK triggers in the load
        cursor.execute("SET maintenance_work_mem = '512MB'")
        ids = Ids(cursor)
        recreate = drop_indexes(cursor, BIG_TABLES)
        t1 = time.perf_counter()

        # People: users, patients, episodes, primary therapists, threads.
        user0 = ids.take("accounts_user", n)
        patient0 = ids.take("patients_patient", n)
        episode0 = ids.take("patients_episode", n)
        admitted = [
            today - dt.timedelta(days=HISTORY_DAYS - rng.randrange(0, 21)) for _ in range(n)
        ]
        joined = ts(now - dt.timedelta(days=HISTORY_DAYS + 1))
        Loader(
            cursor,
            "accounts_user",
            [
                "id",
                "password",
                "last_login",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
                "kind",
                "organization_id",
                "has_seen_welcome",
                "language",
            ],
        ).load(
            row(
                user0 + i,
                clinic.password,
                ts(now - dt.timedelta(hours=rng.randrange(1, 24 * 14))),
                False,
                f"bench.p{i}",
                "",
                "",
                "",
                False,
                True,
                joined,
                "patient",
                org,
                True,
                "",
            )
            for i in range(n)
        )
        first_names = [
            "Alex",
            "Jordan",
            "Sam",
            "Casey",
            "Morgan",
            "Taylor",
            "Jamie",
            "Riley",
            "Avery",
            "Quinn",
        ]
        last_names = [
            "Garcia",
            "Smith",
            "Nguyen",
            "Johnson",
            "Patel",
            "Brown",
            "Lee",
            "Davis",
            "Lopez",
            "Kim",
        ]
        Loader(
            cursor,
            "patients_patient",
            [
                "id",
                "organization_id",
                "user_id",
                "first_name",
                "last_name",
                "preferred_name",
                "date_of_birth",
                "record_number",
                "mobile_phone",
                "created_at",
            ],
        ).load(
            row(
                patient0 + i,
                org,
                user0 + i,
                first_names[i % 10],
                f"{last_names[(i // 10) % 10]}-{i}",
                "",
                dt.date(1960 + i % 45, 1 + i % 12, 1 + i % 28),
                f"BENCH-{i:06d}",
                "",
                joined,
            )
            for i in range(n)
        )
        Loader(
            cursor,
            "patients_episode",
            [
                "id",
                "organization_id",
                "patient_id",
                "program_id",
                "level_of_care",
                "status",
                "admitted_on",
                "discharged_on",
                "discharge_reason",
                "access_until",
            ],
        ).load(
            row(
                episode0 + i,
                org,
                patient0 + i,
                owners[i][2].pk,
                "php" if owners[i][2].kind == "php" else "iop",
                "active",
                admitted[i],
                None,
                "",
                None,
            )
            for i in range(n)
        )
        ctm0 = ids.take("patients_careteammember", n)
        Loader(
            cursor,
            "patients_careteammember",
            [
                "id",
                "organization_id",
                "episode_id",
                "staff_member_id",
                "role",
                "started_on",
                "ended_on",
            ],
        ).load(
            row(ctm0 + i, org, episode0 + i, owners[i][0], "primary_therapist", admitted[i], None)
            for i in range(n)
        )
        part2 = [owners[i][2].treats_substance_use for i in range(n)]
        print(f"people: {time.perf_counter() - t1:.0f} s", flush=True)

        # Check-ins: daily (3 answers) and weekly PHQ-9 / GAD-7.
        t2 = time.perf_counter()
        daily_id = clinic.instruments["daily"].pk
        phq9_id = clinic.instruments["phq9"].pk
        gad7_id = clinic.instruments["gad7"].pk
        responses: list[str] = []
        answers: list[str] = []
        response_id = ids.take("checkins_response", 0)
        answer_id = ids.take("checkins_answer", 0)
        response_loader = Loader(
            cursor,
            "checkins_response",
            [
                "id",
                "organization_id",
                "patient_id",
                "episode_id",
                "instrument_id",
                "key",
                "window",
                "status",
                "started_at",
                "expires_at",
                "submitted_at",
                "total",
                "band",
                "record_category",
                "language",
            ],
        )
        answer_loader = Loader(
            cursor,
            "checkins_answer",
            [
                "id",
                "organization_id",
                "response_id",
                "item_code",
                "value",
                "text",
                "answered_at",
            ],
        )
        trajectories: list[tuple[float, float]] = []
        flag_sources: list[tuple[int, int, dt.datetime, str, str, int]] = []
        getrandbits = rng.getrandbits
        rand = rng.random
        for i in range(n):
            patient, episode = patient0 + i, episode0 + i
            category = "part2" if part2[i] else "self_report"
            start = admitted[i]
            adherence = 0.45 + 0.5 * rand()
            baseline = 10 + rng.randrange(0, 13)
            kind = rand()
            slope = -0.6 if kind < 0.7 else (0.0 if kind < 0.85 else 0.3)  # points a month
            trajectories.append((baseline, slope))
            missing_streak = 0
            for day in days:
                if day < start:
                    continue
                if missing_streak:
                    missing_streak -= 1
                    continue
                if rand() > adherence:
                    if rand() < 0.1:
                        missing_streak = rng.randrange(2, 10)
                    continue
                months = (day - start).days / 30
                severity = max(0.0, min(27.0, baseline + slope * months))
                mood = max(0, min(10, int(9 - severity / 3 + rng.randrange(-2, 3))))
                submitted = day_starts[day] + dt.timedelta(hours=17 + (getrandbits(8) % 6))
                sub = ts(submitted)
                responses.append(
                    f"{response_id}\t{org}\t{patient}\t{episode}\t{daily_id}\t{uuid.UUID(int=getrandbits(128), version=4)}"
                    f"\tdaily:{day.isoformat()}\tcomplete\t{sub}\t{ts(day_ends[day])}\t{sub}\t\\N\t\t{category}\ten\n"
                )
                answers.append(f"{answer_id}\t{org}\t{response_id}\tmood\t{mood}\t\\N\t{sub}\n")
                answers.append(
                    f"{answer_id + 1}\t{org}\t{response_id}\tsleep\t{getrandbits(2)}\t\\N\t{sub}\n"
                )
                answer_id += 2
                if part2[i]:
                    answers.append(
                        f"{answer_id}\t{org}\t{response_id}\tcraving\t{getrandbits(8) % 11}\t\\N\t{sub}\n"
                    )
                    answer_id += 1
                response_id += 1
            # Weekly measures, on Mondays.
            for day in days:
                if day < start or day.weekday() != 0 or rand() > 0.85:
                    continue
                months = (day - start).days / 30
                severity = max(0.0, min(27.0, baseline + slope * months + rng.randrange(-2, 3)))
                year, week, _ = day.isocalendar()
                submitted = day_starts[day] + dt.timedelta(hours=10 + (getrandbits(8) % 8))
                sub = ts(submitted)
                closes = ts(day_starts[day] + dt.timedelta(days=7))
                for code, instrument, items, bands, scale in (
                    ("phq9", phq9_id, 9, PHQ9_BANDS, 1.0),
                    ("gad7", gad7_id, 7, GAD7_BANDS, 0.75),
                ):
                    total = int(severity * scale)
                    values = _spread(total, items, rng)
                    if code == "phq9" and values[8] and rand() > 0.05:
                        # Item 9 is rare: move its points elsewhere.
                        values[8] = 0
                        total = sum(values)
                    responses.append(
                        f"{response_id}\t{org}\t{patient}\t{episode}\t{instrument}\t{uuid.UUID(int=getrandbits(128), version=4)}"
                        f"\tweekly:{year}-W{week:02d}\tcomplete\t{sub}\t{closes}\t{sub}\t{total}\t{_band(total, bands)}\t{category}\ten\n"
                    )
                    for item, value in enumerate(values, start=1):
                        answers.append(
                            f"{answer_id}\t{org}\t{response_id}\t{item}\t{value}\t\\N\t{sub}\n"
                        )
                        answer_id += 1
                    if code == "phq9":
                        answers.append(
                            f"{answer_id}\t{org}\t{response_id}\t10\t{min(3, total // 7)}\t\\N\t{sub}\n"
                        )
                        answer_id += 1
                        if total >= 15 and rand() < 0.08:
                            flag_sources.append(
                                (
                                    patient,
                                    episode,
                                    submitted,
                                    category,
                                    "phq9_deterioration",
                                    response_id,
                                )
                            )
                    response_id += 1
            if len(answers) > 400_000:
                response_loader.load(responses)
                answer_loader.load(answers)
                responses, answers = [], []
        response_loader.load(responses)
        answer_loader.load(answers)
        ids.next["checkins_response"] = response_id
        ids.next["checkins_answer"] = answer_id
        print(
            f"check-ins: {response_loader.rows} responses, {answer_loader.rows} answers "
            f"in {time.perf_counter() - t2:.0f} s",
            flush=True,
        )

        # Sessions: weekly groups of 12 (per clinician), fortnightly individual sessions,
        # one booked next week; attendance for each.
        t3 = time.perf_counter()
        appointment_loader = Loader(
            cursor,
            "scheduling_appointment",
            [
                "id",
                "organization_id",
                "program_id",
                "kind",
                "title",
                "starts_at",
                "ends_at",
                "clinician_id",
                "location",
                "video_url",
                "series_id",
                "is_cancelled",
                "cancelled_at",
                "cancel_reason",
                "changed_at",
                "external_system",
                "external_id",
            ],
        )
        attendance_loader = Loader(
            cursor,
            "scheduling_attendance",
            [
                "id",
                "organization_id",
                "appointment_id",
                "patient_id",
                "episode_id",
                "status",
                "recorded_by_id",
                "recorded_at",
                "absence_reason",
                "starts_at",
            ],
        )
        appointment_id = ids.take("scheduling_appointment", 0)
        attendance_id = ids.take("scheduling_attendance", 0)
        appointments: list[str] = []
        attendance: list[str] = []
        by_owner: dict[int, list[int]] = {}
        for i in range(n):
            by_owner.setdefault(owners[i][0], []).append(i)
        statuses = ["attended"] * 16 + ["late", "absent", "absent", "excused"]
        for members in by_owner.values():
            staff_id, staff_user, program = owners[members[0]]
            for g in range(0, len(members), GROUP_SIZE):
                group = members[g : g + GROUP_SIZE]
                weekday = (g // GROUP_SIZE) % 5
                for day in days[7:] + [today + dt.timedelta(days=d) for d in range(1, 8)]:
                    if day.weekday() != weekday:
                        continue
                    starts = local(day, 18)
                    past = starts < now
                    appointments.append(
                        row(
                            appointment_id,
                            org,
                            program.pk,
                            "group",
                            "Skills group",
                            ts(starts),
                            ts(starts + dt.timedelta(minutes=90)),
                            staff_id,
                            "Group room B",
                            "",
                            None,
                            False,
                            None,
                            "",
                            None,
                            "",
                            "",
                        )
                    )
                    for i in group:
                        if day < admitted[i]:
                            continue
                        status = statuses[getrandbits(8) % 20] if past else "scheduled"
                        attendance.append(
                            row(
                                attendance_id,
                                org,
                                appointment_id,
                                patient0 + i,
                                episode0 + i,
                                status,
                                staff_user if past else None,
                                ts(starts + dt.timedelta(hours=2)) if past else None,
                                "other" if status == "absent" else "",
                                ts(starts),
                            )
                        )
                        attendance_id += 1
                    appointment_id += 1
            # Individual sessions: every other week in the past, and one next week.
            for i in members:
                offset = i % 14
                for day in [*days[offset::14], today + dt.timedelta(days=1 + i % 7)]:
                    if day < admitted[i]:
                        continue
                    starts = local(day, 9 + i % 8)
                    past = starts < now
                    appointments.append(
                        row(
                            appointment_id,
                            org,
                            program.pk,
                            "individual",
                            "Individual session",
                            ts(starts),
                            ts(starts + dt.timedelta(minutes=50)),
                            staff_id,
                            "Office",
                            "",
                            None,
                            False,
                            None,
                            "",
                            None,
                            "",
                            "",
                        )
                    )
                    status = statuses[getrandbits(8) % 20] if past else "scheduled"
                    attendance.append(
                        row(
                            attendance_id,
                            org,
                            appointment_id,
                            patient0 + i,
                            episode0 + i,
                            status,
                            staff_user if past else None,
                            ts(starts + dt.timedelta(hours=1)) if past else None,
                            "other" if status == "absent" else "",
                            ts(starts),
                        )
                    )
                    attendance_id += 1
                    appointment_id += 1
            if len(attendance) > 200_000:
                appointment_loader.load(appointments)
                attendance_loader.load(attendance)
                appointments, attendance = [], []
        appointment_loader.load(appointments)
        attendance_loader.load(attendance)
        ids.next["scheduling_appointment"] = appointment_id
        ids.next["scheduling_attendance"] = attendance_id
        print(
            f"sessions: {appointment_loader.rows} appointments, {attendance_loader.rows} "
            f"attendance in {time.perf_counter() - t3:.0f} s",
            flush=True,
        )

        # Homework every two weeks; messages about twice a week; flags; audit.
        t4 = time.perf_counter()
        hw_loader = Loader(
            cursor,
            "homework_assignment",
            [
                "id",
                "organization_id",
                "patient_id",
                "template_key",
                "title",
                "definition",
                "assigned_by_id",
                "assigned_at",
                "starts_on",
                "due_on",
                "note",
                "appointment_id",
                "status",
                "started_at",
                "completed_at",
                "feedback",
                "feedback_by_id",
                "feedback_at",
                "for_family",
                "record_category",
            ],
        )
        hw_id = ids.take("homework_assignment", 0)
        homework: list[str] = []
        for i in range(n):
            category = "part2" if part2[i] else "shared"
            for day in days[i % 14 :: 14]:
                if day < admitted[i]:
                    continue
                due = day + dt.timedelta(days=7)
                done = due < today and rand() < 0.7
                assigned = local(day, 12)
                homework.append(
                    row(
                        hw_id,
                        org,
                        patient0 + i,
                        hw_key,
                        hw_title,
                        hw_definition,
                        owners[i][1],
                        ts(assigned),
                        day,
                        due,
                        empty["homework_assignment.note"],
                        None,
                        "done" if done else "not_started",
                        ts(assigned + dt.timedelta(days=2)) if done else None,
                        ts(assigned + dt.timedelta(days=3)) if done else None,
                        empty["homework_assignment.feedback"],
                        None,
                        None,
                        False,
                        category,
                    )
                )
                hw_id += 1
        hw_loader.load(homework)
        ids.next["homework_assignment"] = hw_id
        del homework

        thread0 = ids.take("messaging_thread", n)
        message_loader = Loader(
            cursor,
            "messaging_message",
            [
                "id",
                "organization_id",
                "thread_id",
                "author_id",
                "author_kind",
                "body",
                "auto_reply",
                "created_at",
                "idempotency_key",
                "marked_urgent",
                "trigger",
                "trigger_phrase",
                "urgent_request_id",
                "response_seconds",
                "record_category",
            ],
        )
        message_id = ids.take("messaging_message", 0)
        messages: list[str] = []
        threads: list[str] = []
        for i in range(n):
            category = "part2" if part2[i] else "shared"
            last_patient = last_team = None
            for day in days:
                if day < admitted[i] or getrandbits(8) % 7 > 1:
                    continue
                moment = day_starts[day] + dt.timedelta(hours=9 + getrandbits(8) % 12)
                from_patient = getrandbits(1)
                if from_patient:
                    body, author, kind = bodies_patient[getrandbits(2)], user0 + i, "patient"
                    last_patient = moment
                else:
                    body, author, kind = bodies_staff[getrandbits(2)], owners[i][1], "staff"
                    last_team = moment
                messages.append(
                    row(
                        message_id,
                        org,
                        thread0 + i,
                        author,
                        kind,
                        body,
                        "",
                        ts(moment),
                        None,
                        False,
                        "",
                        empty["messaging_message.trigger_phrase"],
                        None,
                        None,
                        category,
                    )
                )
                message_id += 1
            last = max((m for m in (last_patient, last_team) if m), default=None)
            awaiting = (
                last_patient
                if last_patient and (not last_team or last_patient > last_team)
                else None
            )
            threads.append(
                row(
                    thread0 + i,
                    org,
                    patient0 + i,
                    "patient",
                    ts(day_starts[days[0]]),
                    ts(last) if last else None,
                    ts(awaiting) if awaiting else None,
                    ts(last_patient) if last_patient else None,
                    ts(last_team) if last_team else None,
                    ts(last_team) if last_team else None,
                    ts(last) if last else None,
                )
            )
            if len(messages) > 200_000:
                message_loader.load(messages)
                messages = []
        message_loader.load(messages)
        ids.next["messaging_message"] = message_id
        Loader(
            cursor,
            "messaging_thread",
            [
                "id",
                "organization_id",
                "patient_id",
                "kind",
                "created_at",
                "last_message_at",
                "awaiting_reply_since",
                "last_patient_message_at",
                "team_read_at",
                "last_team_message_at",
                "patient_read_at",
            ],
        ).load(threads)

        flag0 = ids.take("flags_flag", len(flag_sources))
        flags: list[str] = []
        for k, (patient, episode, raised, category, reason, source) in enumerate(flag_sources):
            is_open = raised > now - dt.timedelta(days=14)
            i = patient - patient0
            flags.append(
                row(
                    flag0 + k,
                    org,
                    patient,
                    episode,
                    None,
                    "deterioration",
                    2,
                    reason,
                    category,
                    15,
                    "open" if is_open else "closed",
                    "checkins.response",
                    source,
                    ts(raised),
                    None if is_open else ts(raised + dt.timedelta(hours=20)),
                    None if is_open else owners[i][1],
                    None,
                    "" if is_open else "session",
                    empty["flags_flag.action_note"],
                    None if is_open else ts(raised + dt.timedelta(days=1)),
                    None if is_open else owners[i][1],
                    None,
                    empty["flags_flag.snooze_reason"],
                    None,
                    None,
                )
            )
        Loader(
            cursor,
            "flags_flag",
            [
                "id",
                "organization_id",
                "patient_id",
                "episode_id",
                "rule_id",
                "kind",
                "severity",
                "reason",
                "record_category",
                "value",
                "status",
                "source_type",
                "source_id",
                "raised_at",
                "acknowledged_at",
                "acknowledged_by_id",
                "assigned_to_id",
                "action",
                "action_note",
                "closed_at",
                "closed_by_id",
                "snoozed_until",
                "snooze_reason",
                "snoozed_at",
                "snoozed_by_id",
            ],
        ).load(flags)

        audit_loader = Loader(
            cursor,
            "privacy_auditevent",
            [
                "id",
                "organization_id",
                "chain_key",
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
                "entry_hash",
            ],
        )
        audit_id = ids.take("privacy_auditevent", 0)
        events: list[str] = []
        for i in range(n):
            for _ in range(args.audit_per_patient):
                moment = now - dt.timedelta(seconds=getrandbits(25))
                if getrandbits(1):
                    actor, role, relation, category = (
                        owners[i][1],
                        "clinician",
                        "care_team",
                        "self_report",
                    )
                else:
                    actor, role, relation, category = user0 + i, "", "self", "self_report"
                events.append(
                    row(
                        audit_id,
                        org,
                        org,
                        ts(moment),
                        actor,
                        role,
                        "",
                        relation,
                        patient0 + i,
                        "view",
                        category,
                        "patients.patient",
                        patient0 + i,
                        "treatment",
                        "127.0.0.1",
                        "allowed",
                        None,
                    )
                )
                audit_id += 1
            if len(events) > 200_000:
                audit_loader.load(events)
                events = []
        audit_loader.load(events)
        ids.next["privacy_auditevent"] = audit_id
        ids.finish()
        print(
            f"homework {hw_loader.rows}, messages {message_loader.rows}, flags {len(flags)}, "
            f"audit {audit_loader.rows} in {time.perf_counter() - t4:.0f} s",
            flush=True,
        )
        t5 = time.perf_counter()
        for statement in recreate:
            cursor.execute(statement)
        cursor.execute("SET session_replication_role = DEFAULT")
        print(f"indexes rebuilt in {time.perf_counter() - t5:.0f} s", flush=True)
    connection.close()
    t6 = time.perf_counter()
    import psycopg

    with psycopg.connect(args.database, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    print(f"vacuum analyze in {time.perf_counter() - t6:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="postgres://... (a scratch database)")
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--audit-per-patient", type=int, default=50)
    parser.add_argument("--replace", action="store_true", help="drop the database first")
    args = parser.parse_args()
    started = time.perf_counter()
    create_database(args.database, replace=args.replace)
    bench_env.apply(args.database, debug=True)
    import django

    django.setup()
    build(args)
    print(f"built {args.database.rsplit('/', 1)[-1]} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
