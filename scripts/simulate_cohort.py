"""Simulate a 12-week cohort and measure the flag rules against what happened.

    DEBUG=1 uv run python scripts/simulate_cohort.py --patients 240 --seed 7 \
        [--database sqlite:////tmp/tether_sim.sqlite3]

Writes into a scratch database (never the one in DATABASE_URL unless you pass it:
the default is a fresh SQLite file), creates two programs (one treats substance
use), their clinicians (caseload 20) and patients of four kinds, then walks day by
day: each day's check-ins, weekly PHQ-9 and GAD-7, sign-ins, attendance, homework and care-team messages are inserted, and the
real sweep (``flags_sweep(now=end of day)``) runs. Then, per rule: the share of
dropouts and deteriorations flagged between onset and the event, the median days
of warning, and false flags per clinician-week (flags on patients with no event,
or raised before their onset).

Kinds: improvers (PHQ-9 falls), non-responders (flat), deteriorators (PHQ-9 rises
~9 points from week 3-6 over four weeks; event = the end of the rise), drifters
(engagement fades over two weeks from week 3-8, then stops; event = discharge as
"left early" 14 days after the last contact). Noise: mood N(0, 1.3), PHQ-9 ±2,
each patient's own adherence (55-95 %), random missed sessions, late homework.

Also modelled (assumptions in docs/FLAGS.md): weekly GAD-7 that follows the
PHQ-9 trajectory with its own noise; a second program that treats substance use
(every third caseload) whose daily check-in asks craving 0-10; rare use of the
crisis pathway and rare crisis-language messages (each of which also raises an
urgent request, as the messaging service does), more likely as a deteriorator
worsens and as a drifter fades, and occasionally in anyone.

The simulated clinical lead resolves every flag ``--resolve-after`` days (3) after
it was raised; the sweep raises it again if the condition persists, and each raise
counts.

Tuning: ``--set homework_late=3 --set no_reply=7`` changes a rule's threshold in
every simulated program before day 0 (``--set no_reply=7/10`` also sets its
window in days), so candidate thresholds are compared on the same cohort.
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
from typing import Any

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
    gad_base: int = 10
    craving_base: float = 3.0
    substance_use: bool = False  # in the program that treats substance use
    episode: Any = None
    stopped_from: int | None = None
    ids: dict[str, int] = field(default_factory=dict)


def build_people(rng: random.Random, n: int) -> list[Sim]:
    kinds = ["improver"] * 40 + ["non_responder"] * 25 + ["deteriorator"] * 15 + ["drifter"] * 20
    people = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        phq_base = rng.randint(10, 19)
        sim = Sim(
            kind=kind,
            adherence=rng.uniform(0.55, 0.95),
            phq_base=phq_base,
            # GAD-7 (0-21) correlates with PHQ-9 (r about 0.7 in outpatient samples).
            gad_base=max(0, min(21, round(0.7 * phq_base + rng.gauss(0, 2.5)))),
            craving_base=rng.uniform(1.5, 5.0),
        )
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


def label(model: type, sim: Sim, base: str) -> dict[str, str]:
    """The record category the capture service would store (``gate.record_category_for``:
    ``part2`` for clinical records in the substance-use program)."""
    from tether.privacy.gate import record_category_for
    from tether.privacy.policy import Category

    if "record_category" not in {f.name for f in model._meta.get_fields()}:  # type: ignore[attr-defined]
        return {}
    return {"record_category": str(record_category_for(sim.episode, Category(base)).value)}


def progress(sim: Sim, day: int) -> float:
    """0 before the onset, rising to 1 at the end of the deterioration / fade."""
    if sim.onset is None or day < sim.onset:
        return 0.0
    span = 28 if sim.kind == "deteriorator" else 14
    return min(1.0, (day - sim.onset) / span)


def gad(sim: Sim, day: int, rng: random.Random) -> int:
    """GAD-7 follows the PHQ-9 trajectory at two thirds of its size, with its own noise."""
    base = sim.gad_base
    if sim.kind == "improver":
        true = base - 5 * min(day, 70) / 70
    elif sim.kind == "deteriorator":
        true = base + 6 * progress(sim, day)
    else:
        true = base
    return max(0, min(21, round(true + rng.gauss(0, 1.2))))


def craving(sim: Sim, day: int, rng: random.Random) -> int:
    """Daily craving 0-10: eases for improvers, rises with deterioration and drift."""
    true = sim.craving_base
    if sim.kind == "improver":
        true -= 1.5 * min(day, 70) / 70
    elif sim.kind == "deteriorator":
        true += 3.5 * progress(sim, day)
    elif sim.kind == "drifter":
        true += 2.0 * progress(sim, day)
    return max(0, min(10, round(true + rng.gauss(0, 1.5))))


# Daily chance of using the crisis pathway (button / call) and of writing a message
# with crisis language: rare in anyone, higher as a deteriorator worsens and as a
# drifter fades. About 1 in 8 deteriorators does one or the other before the event.
CRISIS_NOISE = 0.0006
CRISIS_DETERIORATION = 0.006
CRISIS_DRIFT = 0.002
LANGUAGE_NOISE = 0.0006
LANGUAGE_DETERIORATION = 0.005
LANGUAGE_DRIFT = 0.0015


def crisis_chances(sim: Sim, day: int) -> tuple[float, float]:
    extra = progress(sim, day)
    if sim.kind == "deteriorator":
        return (
            CRISIS_NOISE + CRISIS_DETERIORATION * extra,
            LANGUAGE_NOISE + LANGUAGE_DETERIORATION * extra,
        )
    if sim.kind == "drifter" and (sim.stopped_from is None or day < sim.stopped_from):
        return CRISIS_NOISE + CRISIS_DRIFT * extra, LANGUAGE_NOISE + LANGUAGE_DRIFT * extra
    return CRISIS_NOISE, LANGUAGE_NOISE


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
    parser.add_argument(
        "--resolve-after",
        type=int,
        default=3,
        help="days after which the simulated clinical lead resolves an open flag (0: never)",
    )
    parser.add_argument("--database", default="sqlite:////tmp/tether_sim.sqlite3")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="RULE=THRESHOLD[/WINDOW]",
        help="change a rule's threshold (and window in days) in every simulated program",
    )
    args = parser.parse_args()
    overrides: dict[str, tuple[int, int | None]] = {}
    for item in args.set:
        code, _sep, value = item.partition("=")
        threshold, _slash, window = value.partition("/")
        overrides[code.strip()] = (int(threshold), int(window) if window else None)
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
    from tether.crisis.models import Level, UrgentContactEvent, UrgentContactRequest
    from tether.flags.models import Flag, FlagRule
    from tether.flags.rules import RULES
    from tether.flags.services import flags_sweep, rules_ensure_defaults
    from tether.homework.models import Assignment
    from tether.messaging.models import Message, Thread
    from tether.organizations.models import Organization, Program, StaffMember
    from tether.patients.models import CareTeamMember, Episode, LevelOfCare, Patient
    from tether.scheduling.models import Appointment, Attendance

    rng = random.Random(args.seed)  # noqa: S311 - a reproducible simulation, not secrets
    people = build_people(rng, args.patients)
    sync_instruments()
    start = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    org = Organization.objects.create(name="Simulated clinic", slug=f"sim-{args.seed}")
    iop = Program.objects.create(organization=org, name="Sim IOP", kind="iop")
    sud = Program.objects.create(
        organization=org, name="Sim SUD IOP", kind="iop", treats_substance_use=True
    )
    for program in (iop, sud):
        for code, schedule in (("daily", "daily"), ("phq9", "weekly"), ("gad7", "weekly")):
            ProgramInstrument.objects.create(
                organization=org, program=program, instrument_code=code, schedule=schedule
            )
    rules_ensure_defaults(programs=[iop, sud])
    for code, (threshold, window) in overrides.items():
        if code not in RULES:
            parser.error(f"no rule {code!r}; rules: {', '.join(sorted(RULES))}")
        changed = {"threshold": threshold} | ({"window_days": window} if window else {})
        FlagRule.objects.filter(code=code).update(**changed)
    daily = Instrument.objects.get(code="daily", is_current=True)
    phq9 = Instrument.objects.get(code="phq9", is_current=True)
    gad7 = Instrument.objects.get(code="gad7", is_current=True)
    clinicians = []
    for c in range((len(people) + CASELOAD - 1) // CASELOAD):
        user = User.objects.create_user(
            username=f"sim-clin-{c}", kind=User.Kind.STAFF, organization=org
        )
        staff = StaffMember.objects.create(organization=org, user=user, role="clinician")
        staff.programs.add(sud if c % 3 == 2 else iop)
        clinicians.append(staff)
    for i, sim in enumerate(people):
        program = sud if (i // CASELOAD) % 3 == 2 else iop
        sim.substance_use = program is sud
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
        sim.episode = episode
        sim.ids = {
            "clinician_user": clinicians[i // CASELOAD].user_id,
            "user": user.pk,
            "patient": patient.pk,
            "episode": episode.pk,
            "thread": thread.pk,
            "program": program.pk,
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
        crises: list[tuple[Sim, str, dt.datetime]] = []
        team_messages: list[tuple[Sim, str, dt.datetime]] = []
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
                            **label(Response, sim, "self_report"),
                        ),
                        {"mood": mood(sim, day, rng)}
                        | ({"craving": craving(sim, day, rng)} if sim.substance_use else {}),
                    )
                )
            if day % 7 == 0 and rng.random() < max(p, 0.0) + 0.05:
                for instrument, total in ((phq9, phq(sim, day, rng)), (gad7, gad(sim, day, rng))):
                    responses.append(
                        (
                            Response(
                                organization=org,
                                patient_id=sim.ids["patient"],
                                episode_id=sim.ids["episode"],
                                instrument=instrument,
                                window=f"weekly:{today.date()}",
                                status="complete",
                                started_at=when,
                                expires_at=when + dt.timedelta(days=7),
                                submitted_at=when,
                                total=total,
                                **label(Response, sim, "self_report"),
                            ),
                            {},
                        )
                    )
            crisis_p, language_p = crisis_chances(sim, day)
            for source, chance in (("patient_button", crisis_p), ("message", language_p)):
                if rng.random() < chance:
                    crises.append((sim, source, when))
            if appointment is not None:
                attended = rng.random() < min(0.97, p + 0.25)
                attendances.append(
                    Attendance(
                        organization=org,
                        appointment=appointment,
                        patient_id=sim.ids["patient"],
                        episode_id=sim.ids["episode"],
                        status="attended" if attended else "absent",
                        **label(Attendance, sim, "general"),
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
                        **label(Assignment, sim, "shared"),
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
                team_messages.append((sim, "staff", when))
                if rng.random() < p:
                    reply = when + dt.timedelta(hours=rng.randint(1, 48))
                    Thread.objects.filter(pk=sim.ids["thread"]).update(
                        last_patient_message_at=reply, team_read_at=reply
                    )
                    team_messages.append((sim, "patient", reply))
        created = Response.objects.bulk_create([r for r, _ in responses])
        Answer.objects.bulk_create(
            Answer(organization=org, response=r, item_code=k, value=v, answered_at=r.submitted_at)
            for r, (_, items) in zip(created, responses, strict=True)
            for k, v in items.items()
        )
        Attendance.objects.bulk_create(attendances)
        Assignment.objects.bulk_create(assignments)
        for sim, source, when in crises:
            urgent = UrgentContactRequest.objects.create(
                organization=org,
                patient_id=sim.ids["patient"],
                program_id=sim.ids["program"],
                source=source,
                status="closed",
                level=Level.CARE_TEAM,
                raised_at=when,
                acknowledged_at=when + dt.timedelta(minutes=10),
                closed_at=when + dt.timedelta(minutes=40),
            )
            UrgentContactEvent.objects.create(
                organization=org, request=urgent, kind="raised", occurred_at=when
            )
            if source == "message":
                Message.objects.create(
                    organization=org,
                    thread_id=sim.ids["thread"],
                    author_id=sim.ids["user"],
                    author_kind="patient",
                    body="(simulated message)",
                    created_at=when,
                    trigger="phrase",
                    urgent_request=urgent,
                    **label(Message, sim, "shared"),
                )
        Message.objects.bulk_create(
            Message(
                organization=org,
                thread_id=sim.ids["thread"],
                author_kind=kind,
                body="(simulated message)",
                created_at=when,
                **label(Message, sim, "shared"),
            )
            for sim, kind, when in team_messages
        )
        for user_id, when in logins:
            User.objects.filter(pk=user_id).update(last_login=when)
        for sim in people:
            if sim.stopped_from is not None and day == sim.stopped_from + 14:
                Episode.objects.filter(pk=sim.ids["episode"]).update(
                    status="discharged", discharged_on=today.date(), discharge_reason="left_early"
                )
        # The clinical lead works the queue: a flag is resolved a few days after it was
        # raised (here with "discussed in session"); the sweep raises it again if the
        # condition persists, as it does in the portal.
        review_at = today + dt.timedelta(hours=22)
        Flag.objects.filter(
            status="open",
            raised_at__lte=review_at - dt.timedelta(days=args.resolve_after or 10_000),
        ).update(
            status="closed",
            acknowledged_at=review_at,
            closed_at=review_at,
            action="session",
        )
        t0 = time.perf_counter()
        flags_sweep(now=today + dt.timedelta(hours=23))
        sweep_seconds.append(time.perf_counter() - t0)

    used = FlagRule.objects.filter(program=iop).order_by("code")
    print("thresholds: " + ", ".join(f"{r.code}={r.threshold}/{r.window_days}d" for r in used))
    print()
    report(people, Flag, start, len(clinicians), sweep_seconds, list(RULES))


def report(people, flag_model, start, n_clinicians, sweep_seconds, codes) -> None:  # type: ignore[no-untyped-def]
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
    rules = sorted(set(codes) | {reason for _, reason in first} | set(false_flags))
    print(
        "| rule | dropouts flagged | median days of warning | deteriorations flagged "
        "| median days of warning | false flags per clinician-week |"
    )
    print("|---|---|---|---|---|---|")
    for kind_rule in [*rules, "any rule"]:
        cells = []
        for kind in ("drifter", "deteriorator"):
            group = [s for s in people if s.kind == kind]
            if kind_rule == "craving_rise":  # only the program that treats substance use asks
                group = [s for s in group if s.substance_use]
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
    print("craving_rise: dropouts and deteriorations in the substance-use program only.")
    print(
        f"{len(people)} patients, {n_clinicians} clinicians, {DAYS} days; sweep: median "
        f"{statistics.median(sweep_seconds) * 1000:.0f} ms, max {max(sweep_seconds) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
