"""Simulate a 12-week cohort and measure the flag rules against what happened.

    DEBUG=1 uv run python scripts/simulate_cohort.py --patients 240 --seed 7 \
        [--database sqlite:////tmp/tether_sim.sqlite3]

Writes into a scratch database (never the one in DATABASE_URL unless you pass it:
the default is a fresh SQLite file), creates one program, its clinicians (caseload
20) and patients of four kinds, then walks day by day: each day's check-ins, weekly
PHQ-9, sign-ins, attendance, homework and care-team messages are inserted, and the
real sweep (``flags_sweep(now=end of day)``) runs. Then, per rule: the share of
dropouts and deteriorations flagged between onset and the event, the median days
of warning, and false flags per clinician-week (flags on patients with no event,
or raised before their onset).

Kinds: improvers (PHQ-9 falls), non-responders (flat), deteriorators (PHQ-9 rises
~9 points from week 3-6 over four weeks; event = the end of the rise), drifters
(engagement fades over two weeks from week 3-8, then stops; event = discharge as
"left early" 14 days after the last contact). Noise: mood N(0, 1.3), PHQ-9 ±2,
each patient's own adherence (55-95 %), random missed sessions, late homework.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DAYS = 84
CASELOAD = 20


@dataclass
class Sim:
    kind: str
    adherence: float
    onset: int | None = None  # day the trouble starts
    event: int | None = None  # day of dropout / peak deterioration
    phq_base: int = 14
    stopped_from: int | None = None
    ids: dict[str, int] = field(default_factory=dict)


def build_people(rng: random.Random, n: int) -> list[Sim]:
    kinds = ["improver"] * 40 + ["non_responder"] * 25 + ["deteriorator"] * 15 + ["drifter"] * 20
    people = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        sim = Sim(kind=kind, adherence=rng.uniform(0.55, 0.95), phq_base=rng.randint(10, 19))
        if kind == "deteriorator":
            sim.onset = rng.randint(21, 42)
            sim.event = sim.onset + 28
        elif kind == "drifter":
            sim.onset = rng.randint(21, 56)
            sim.stopped_from = sim.onset + 14
            sim.event = sim.stopped_from + 14
        people.append(sim)
    rng.shuffle(people)
    return people


def engagement(sim: Sim, day: int) -> float:
    if sim.kind != "drifter" or sim.onset is None or day < sim.onset:
        return sim.adherence
    if sim.stopped_from is not None and day >= sim.stopped_from:
        return 0.0
    return sim.adherence * (1 - (day - sim.onset) / 14)


def phq(sim: Sim, day: int, rng: random.Random) -> int:
    base = sim.phq_base
    if sim.kind == "improver":
        true = base - 8 * min(day, 70) / 70
    elif sim.kind == "deteriorator" and sim.onset is not None and day >= sim.onset:
        true = base + 9 * min(day - sim.onset, 28) / 28
    else:
        true = base
    return max(0, min(27, round(true + rng.uniform(-2, 2))))


def mood(sim: Sim, day: int, rng: random.Random) -> int:
    true = 5.0
    if sim.kind == "improver":
        true = 4 + 3 * min(day, 70) / 70
    elif sim.kind == "deteriorator" and sim.onset is not None and day >= sim.onset:
        true = 5 - 3.5 * min(day - sim.onset, 28) / 28
    return max(0, min(10, round(true + rng.gauss(0, 1.3))))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=240)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", default="sqlite:////tmp/tether_sim.sqlite3")
    args = parser.parse_args()
    if args.database.startswith("sqlite:////"):
        Path(args.database.removeprefix("sqlite:///")).unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = args.database
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tether.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from django.utils import timezone

    from tether.accounts.models import User
    from tether.checkins.models import Answer, Instrument, ProgramInstrument, Response
    from tether.checkins.sync import sync_instruments
    from tether.flags.models import Flag
    from tether.flags.services import flags_sweep
    from tether.homework.models import Assignment
    from tether.messaging.models import Thread
    from tether.organizations.models import Organization, Program, StaffMember
    from tether.patients.models import CareTeamMember, Episode, LevelOfCare, Patient
    from tether.scheduling.models import Appointment, Attendance

    rng = random.Random(args.seed)  # noqa: S311 - a reproducible simulation, not secrets
    people = build_people(rng, args.patients)
    sync_instruments()
    start = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    org = Organization.objects.create(name="Simulated clinic", slug=f"sim-{args.seed}")
    program = Program.objects.create(organization=org, name="Sim IOP", kind="iop")
    for code, schedule in (("daily", "daily"), ("phq9", "weekly")):
        ProgramInstrument.objects.create(
            organization=org, program=program, instrument_code=code, schedule=schedule
        )
    daily = Instrument.objects.get(code="daily", is_current=True)
    phq9 = Instrument.objects.get(code="phq9", is_current=True)
    clinicians = []
    for c in range((len(people) + CASELOAD - 1) // CASELOAD):
        user = User.objects.create_user(
            username=f"sim-clin-{c}", kind=User.Kind.STAFF, organization=org
        )
        staff = StaffMember.objects.create(organization=org, user=user, role="clinician")
        staff.programs.add(program)
        clinicians.append(staff)
    for i, sim in enumerate(people):
        user = User.objects.create_user(
            username=f"sim-{i}", kind=User.Kind.PATIENT, organization=org
        )
        patient = Patient.objects.create(
            organization=org,
            user=user,
            first_name="Sim",
            last_name=str(i),
            date_of_birth=dt.date(1990, 1, 1),
            record_number=f"SIM-{i}",
        )
        episode = Episode.objects.create(
            organization=org,
            patient=patient,
            program=program,
            level_of_care=LevelOfCare.IOP,
            admitted_on=start.date(),
        )
        CareTeamMember.objects.create(
            organization=org,
            episode=episode,
            staff_member=clinicians[i // CASELOAD],
            role=CareTeamMember.Role.PRIMARY_THERAPIST,
            started_on=start.date(),
        )
        thread = Thread.objects.create(organization=org, patient=patient)
        sim.ids = {
            "clinician_user": clinicians[i // CASELOAD].user_id,
            "user": user.pk,
            "patient": patient.pk,
            "episode": episode.pk,
            "thread": thread.pk,
        }

    sweep_seconds = []
    for day in range(DAYS):
        today = start + dt.timedelta(days=day)
        responses, logins = [], []
        appointment = None
        if today.weekday() in (0, 2, 4):
            appointment = Appointment.objects.create(
                organization=org,
                program=program,
                kind=Appointment.Kind.GROUP,
                title="Group",
                starts_at=today + dt.timedelta(hours=17),
                ends_at=today + dt.timedelta(hours=20),
            )
        attendances, assignments = [], []
        for sim in people:
            if sim.stopped_from is not None and day >= sim.stopped_from + 14:
                continue  # discharged (left early)
            p = engagement(sim, day)
            when = today + dt.timedelta(hours=rng.randint(8, 21))
            if rng.random() < p:
                logins.append((sim.ids["user"], when))
                responses.append(
                    (
                        Response(
                            organization=org,
                            patient_id=sim.ids["patient"],
                            episode_id=sim.ids["episode"],
                            instrument=daily,
                            window=f"daily:{today.date()}",
                            status="complete",
                            started_at=when,
                            expires_at=when + dt.timedelta(hours=3),
                            submitted_at=when,
                        ),
                        {"mood": mood(sim, day, rng)},
                    )
                )
            if day % 7 == 0 and rng.random() < max(p, 0.0) + 0.05:
                responses.append(
                    (
                        Response(
                            organization=org,
                            patient_id=sim.ids["patient"],
                            episode_id=sim.ids["episode"],
                            instrument=phq9,
                            window=f"weekly:{today.date()}",
                            status="complete",
                            started_at=when,
                            expires_at=when + dt.timedelta(days=7),
                            submitted_at=when,
                            total=phq(sim, day, rng),
                        ),
                        {},
                    )
                )
            if appointment is not None:
                attended = rng.random() < min(0.97, p + 0.25)
                attendances.append(
                    Attendance(
                        organization=org,
                        appointment=appointment,
                        patient_id=sim.ids["patient"],
                        episode_id=sim.ids["episode"],
                        status="attended" if attended else "absent",
                    )
                )
            if day % 7 == 0:
                done = rng.random() < p
                due = (today + dt.timedelta(days=6)).date()
                late = rng.random() < 0.25
                assignments.append(
                    Assignment(
                        organization=org,
                        patient_id=sim.ids["patient"],
                        title="Practice",
                        template_key="practice",
                        definition={},
                        assigned_by_id=sim.ids["clinician_user"],
                        starts_on=today.date(),
                        due_on=due,
                        status="done" if done else "not_started",
                        completed_at=(
                            timezone.make_aware(
                                dt.datetime.combine(
                                    due + dt.timedelta(days=2 if late else -1), dt.time(12)
                                )
                            )
                            if done
                            else None
                        ),
                    )
                )
            if day % 7 == 3:  # the care team writes weekly; the patient may answer
                Thread.objects.filter(pk=sim.ids["thread"]).update(last_team_message_at=when)
                if rng.random() < p:
                    reply = when + dt.timedelta(hours=rng.randint(1, 48))
                    Thread.objects.filter(pk=sim.ids["thread"]).update(
                        last_patient_message_at=reply, team_read_at=reply
                    )
        created = Response.objects.bulk_create([r for r, _ in responses])
        Answer.objects.bulk_create(
            Answer(organization=org, response=r, item_code=k, value=v, answered_at=r.submitted_at)
            for r, (_, items) in zip(created, responses, strict=True)
            for k, v in items.items()
        )
        Attendance.objects.bulk_create(attendances)
        Assignment.objects.bulk_create(assignments)
        for user_id, when in logins:
            User.objects.filter(pk=user_id).update(last_login=when)
        for sim in people:
            if sim.stopped_from is not None and day == sim.stopped_from + 14:
                Episode.objects.filter(pk=sim.ids["episode"]).update(
                    status="discharged", discharged_on=today.date(), discharge_reason="left_early"
                )
        t0 = time.perf_counter()
        flags_sweep(now=today + dt.timedelta(hours=23))
        sweep_seconds.append(time.perf_counter() - t0)

    report(people, Flag, start, len(clinicians), sweep_seconds)


def report(people, flag_model, start, n_clinicians, sweep_seconds) -> None:  # type: ignore[no-untyped-def]
    by_patient = {sim.ids["patient"]: sim for sim in people}
    first: dict[tuple[int, str], int] = {}
    false_flags: dict[str, int] = defaultdict(int)
    for patient_id, reason, raised_at in flag_model.objects.values_list(
        "patient_id", "reason", "raised_at"
    ).order_by("raised_at"):
        sim = by_patient[patient_id]
        day = (raised_at - start).days
        if sim.onset is None or day < sim.onset:
            false_flags[reason] += 1
            continue
        if sim.event is not None and day <= sim.event:
            first.setdefault((patient_id, reason), day)
    weeks = DAYS / 7
    rules = sorted({reason for _, reason in first} | set(false_flags))
    print(
        "| rule | dropouts flagged | median days of warning | deteriorations flagged "
        "| median days of warning | false flags per clinician-week |"
    )
    print("|---|---|---|---|---|---|")
    for kind_rule in [*rules, "any rule"]:
        cells = []
        for kind in ("drifter", "deteriorator"):
            group = [s for s in people if s.kind == kind]
            warnings = []
            for sim in group:
                days = [
                    d
                    for (pid, reason), d in first.items()
                    if pid == sim.ids["patient"]
                    and (kind_rule == "any rule" or reason == kind_rule)
                ]
                if days and sim.event is not None:
                    warnings.append(sim.event - min(days))
            share = (
                f"{len(warnings)}/{len(group)} ({100 * len(warnings) / max(1, len(group)):.0f} %)"
            )
            median = f"{statistics.median(warnings):.0f}" if warnings else "—"
            cells += [share, median]
        total_false = (
            sum(false_flags.values()) if kind_rule == "any rule" else false_flags.get(kind_rule, 0)
        )
        cells.append(f"{total_false / (n_clinicians * weeks):.2f}")
        print(f"| {kind_rule} | " + " | ".join(cells) + " |")
    print()
    print(
        f"{len(people)} patients, {n_clinicians} clinicians, {DAYS} days; sweep: median "
        f"{statistics.median(sweep_seconds) * 1000:.0f} ms, max {max(sweep_seconds) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
