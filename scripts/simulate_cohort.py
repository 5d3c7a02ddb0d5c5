"""Simulate a 12-week cohort and measure the flag rules against what happened.

    DEBUG=1 uv run python scripts/simulate_cohort.py --patients 240 --seed 7 \
        --cohort tuning [--database sqlite:////tmp/tether_sim.sqlite3] [--set RULE=N[/DAYS]]

Writes into a scratch database (never the one in DATABASE_URL unless you pass it:
the default is a fresh SQLite file), creates two programs (one treats substance
use), their clinicians (caseload 20) and patients of seven kinds, then walks day by
day: each day's sign-ins, check-ins, weekly PHQ-9 and GAD-7, attendance, homework and
care-team messages are inserted, and the real sweep (``flags_sweep(now=end of day)``)
runs. Then, per rule: dropouts flagged (and flagged 7 days or more ahead), gradual and
sudden deteriorations flagged, median days of warning, false flags per
clinician-week and late flags, counted as ``classify`` says (docs/FLAGS.md).

Kinds (MIX): improvers, non-responders, steady-but-irregular patients (days off every
week, trips with no contact, bursts), gradual deterioration (about a point a week),
sudden deterioration (a jump of 7-11 PHQ-9 points in a day), drifters (engagement fades
to nothing, then silence, then "left early") and partial dropouts (keep signing in,
stop answering). Missing not at random: a bad day lowers the chance of answering.

``--cohort tuning`` and ``--cohort holdout`` are two generators that differ in their
behaviour parameters (``COHORTS``); thresholds are chosen on ``tuning`` only, and
``holdout`` judges them.

The simulated clinical lead resolves every flag ``--resolve-after`` days (3) after
it was raised; the sweep raises it again if the condition persists (after the rule's
re-arm period), and each raise counts.

Tuning: ``--set mood_drop=3/4`` changes a rule's threshold (and window in days) in
every simulated program before day 0, so candidates are compared on the same cohort.
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
# A flag counts for an event only if it comes at most this many days before it.
HORIZON = 21


@dataclass(frozen=True)
class Cohort:
    """The behaviour parameters of one generator. ``tuning`` is the cohort the
    thresholds are chosen on; ``holdout`` differs in every parameter marked below and
    is never used to choose a threshold (docs/FLAGS.md, "Hold-out validation")."""

    name: str
    adherence: tuple[float, float]  # each patient's own engagement, uniform
    mood_noise: float  # SD of daily mood around its true value
    skip_days: str  # irregular patients' days off: "weekend" or "sunday+1"
    travel_chance: float  # share of irregular patients who travel
    travel_days: tuple[int, int]  # length of one trip (no contact at all)
    trips: tuple[int, int]  # number of trips of a traveller
    burst: tuple[int, int]  # bursty patients: mean days on, mean days off
    fade_days: tuple[int, int]  # drifters: engagement fades to nothing over these days
    silence_days: tuple[int, int]  # drifters: days of silence before "left early"
    partial_fade: tuple[int, int]  # partial dropouts: answering fades over these days
    partial_signin: float  # partial dropouts keep signing in at this share of adherence
    gradual_rate: tuple[float, float]  # PHQ-9 points per week
    sudden_jump: tuple[int, int]  # PHQ-9 points, within one day
    mnar: float  # a bad day lowers the chance of answering by up to this share
    weekly_late: tuple[int, int]  # the weekly measures come this many days after day 0
    sunday_skippers: float  # share of steady patients who never check in on Sundays


COHORTS = {
    "tuning": Cohort(
        name="tuning",
        adherence=(0.55, 0.95),
        mood_noise=1.3,
        skip_days="weekend",
        travel_chance=0.6,
        travel_days=(5, 9),
        trips=(1, 1),
        burst=(4, 2),
        fade_days=(14, 14),
        silence_days=(14, 14),
        partial_fade=(10, 10),
        partial_signin=1.0,
        gradual_rate=(1.0, 1.0),
        sudden_jump=(8, 10),
        mnar=0.4,
        weekly_late=(0, 0),
        sunday_skippers=0.0,
    ),
    "holdout": Cohort(
        name="holdout",
        adherence=(0.45, 0.92),
        mood_noise=1.6,
        skip_days="sunday+1",
        travel_chance=0.8,
        travel_days=(6, 12),
        trips=(1, 2),
        burst=(3, 3),
        fade_days=(8, 21),
        silence_days=(12, 16),
        partial_fade=(5, 14),
        partial_signin=0.8,
        gradual_rate=(0.8, 1.3),
        sudden_jump=(7, 11),
        mnar=0.7,
        weekly_late=(0, 2),
        sunday_skippers=0.3,
    ),
}

# Kinds per 100 patients. Dropouts: drifter, partial; deteriorations: gradual, sudden.
MIX = (
    ("improver", 25),
    ("non_responder", 15),
    ("irregular", 20),
    ("gradual", 8),
    ("sudden", 7),
    ("drifter", 15),
    ("partial", 10),
)
DROPOUTS = ("drifter", "partial")
DETERIORATIONS = ("gradual", "sudden")


@dataclass
class Sim:
    kind: str
    adherence: float
    onset: int | None = None  # day the trouble starts
    event: int | None = None  # day of dropout / deterioration (see docs/FLAGS.md)
    phq_base: int = 14
    gad_base: int = 10
    craving_base: float = 3.0
    substance_use: bool = False  # in the program that treats substance use
    episode: Any = None
    stopped_from: int | None = None  # drifters: last contact before this day
    fade: int = 14
    rate: float = 1.0  # gradual: PHQ-9 points per week; sudden: the jump
    off_days: frozenset[int] = frozenset()  # weekdays with no contact (irregular)
    away: frozenset[int] = frozenset()  # days travelling (irregular)
    bursty: bool = False
    weekly_day: int = 0  # day of the week (from day 0) the weekly measures come
    ids: dict[str, int] = field(default_factory=dict)


def build_people(rng: random.Random, n: int, cohort: Cohort) -> list[Sim]:
    kinds = [kind for kind, share in MIX for _ in range(share)]
    people = []
    for i in range(n):
        kind = kinds[i * len(kinds) // n]  # the mix in proportion, whatever n
        phq_base = rng.randint(10, 19)
        sim = Sim(
            kind=kind,
            adherence=rng.uniform(*cohort.adherence),
            phq_base=phq_base,
            # GAD-7 (0-21) correlates with PHQ-9 (r about 0.7 in outpatient samples).
            gad_base=max(0, min(21, round(0.7 * phq_base + rng.gauss(0, 2.5)))),
            craving_base=rng.uniform(1.5, 5.0),
            weekly_day=rng.randint(*cohort.weekly_late),
        )
        if kind == "gradual":
            sim.rate = rng.uniform(*cohort.gradual_rate)
            sim.onset = rng.randint(7, 21)
            # The event: the true PHQ-9 is 6 points (reliable deterioration) above baseline.
            sim.event = sim.onset + round(6 / sim.rate * 7)
        elif kind == "sudden":
            sim.rate = rng.randint(*cohort.sudden_jump)
            sim.onset = rng.randint(21, 63)
            # To be caught "between two weekly PHQ-9s": within 3 days of the jump.
            sim.event = sim.onset + 4
        elif kind == "drifter":
            sim.fade = rng.randint(*cohort.fade_days)
            sim.onset = rng.randint(21, 56)
            sim.stopped_from = sim.onset + sim.fade
            sim.event = sim.stopped_from + rng.randint(*cohort.silence_days)
        elif kind == "partial":
            sim.fade = rng.randint(*cohort.partial_fade)
            sim.onset = rng.randint(21, 50)
            sim.event = sim.onset + sim.fade + 14
        elif kind == "irregular":
            if cohort.skip_days == "weekend":
                sim.off_days = frozenset({5, 6})  # day 0 is a Monday
            else:
                sim.off_days = frozenset({6, rng.randint(0, 4)})
            if rng.random() < cohort.travel_chance:
                away: set[int] = set()
                for _trip in range(rng.randint(*cohort.trips)):
                    first = rng.randint(7, DAYS - 14)
                    away |= set(range(first, first + rng.randint(*cohort.travel_days)))
                sim.away = frozenset(away)
            sim.bursty = rng.random() < 0.5
        elif rng.random() < cohort.sunday_skippers:
            sim.off_days = frozenset({6})
        people.append(sim)
    rng.shuffle(people)
    return people


def fading(sim: Sim, day: int) -> float:
    """1 before the onset, falling linearly to 0 over the patient's fade."""
    if sim.onset is None or day < sim.onset:
        return 1.0
    return max(0.0, 1 - (day - sim.onset) / sim.fade)


def chances(
    sim: Sim, day: int, true_mood: float, cohort: Cohort, burst_on: bool
) -> dict[str, float]:
    """The chance of each kind of contact today."""
    p = sim.adherence
    if sim.kind == "drifter":
        p = (
            0.0
            if sim.stopped_from is not None and day >= sim.stopped_from
            else p * fading(sim, day)
        )
    c = {"signin": p, "checkin": p, "weekly": p + 0.05, "attend": min(0.97, p + 0.25)}
    c |= {"homework": p, "reply": p}
    if sim.kind == "partial" and sim.onset is not None and day >= sim.onset:
        f = fading(sim, day)
        c = {
            "signin": p * cohort.partial_signin,  # keeps signing in
            "checkin": p * f,
            "weekly": (p + 0.05) * f,
            "attend": min(0.97, p + 0.25) * max(f, 0.4),
            "homework": p * f,
            "reply": p * f,
        }
    if sim.kind == "irregular":
        if day in sim.away:
            return dict.fromkeys(c, 0.0)
        if sim.bursty and not burst_on:
            c["checkin"] *= 0.15
            c["signin"] *= 0.3
            c["reply"] *= 0.3
    if day % 7 in sim.off_days:  # never on these weekdays (day 0 is a Monday)
        c["checkin"] = c["signin"] = 0.0
    # Missing not at random: a bad day lowers the chance of answering.
    bad = max(0.0, 5.0 - true_mood) / 5.0
    c["checkin"] *= 1 - cohort.mnar * bad
    c["weekly"] *= 1 - cohort.mnar * bad
    return c


def true_rise(sim: Sim, day: int) -> float:
    """PHQ-9 points above the patient's baseline (deterioration kinds)."""
    if sim.onset is None or day < sim.onset:
        return 0.0
    if sim.kind == "gradual":
        return sim.rate * (day - sim.onset) / 7
    if sim.kind == "sudden":
        return sim.rate
    return 0.0


def phq(sim: Sim, day: int, rng: random.Random) -> int:
    base = sim.phq_base
    true = base - 8 * min(day, 70) / 70 if sim.kind == "improver" else base + true_rise(sim, day)
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
    """0 before the onset, rising to 1 as the trouble reaches its full size."""
    if sim.onset is None or day < sim.onset:
        return 0.0
    if sim.kind in DETERIORATIONS:
        return min(1.0, true_rise(sim, day) / 9)
    return min(1.0, (day - sim.onset) / sim.fade)


def gad(sim: Sim, day: int, rng: random.Random) -> int:
    """GAD-7 follows the PHQ-9 trajectory at two thirds of its size, with its own noise."""
    base = sim.gad_base
    if sim.kind == "improver":
        true = base - 5 * min(day, 70) / 70
    else:
        true = base + true_rise(sim, day) * 2 / 3
    return max(0, min(21, round(true + rng.gauss(0, 1.2))))


def craving(sim: Sim, day: int, rng: random.Random) -> int:
    """Daily craving 0-10: eases for improvers, rises with deterioration and drift."""
    true = sim.craving_base
    if sim.kind == "improver":
        true -= 1.5 * min(day, 70) / 70
    elif sim.kind in DETERIORATIONS:
        true += 3.5 * progress(sim, day)
    elif sim.kind in DROPOUTS:
        true += 2.0 * progress(sim, day)
    return max(0, min(10, round(true + rng.gauss(0, 1.5))))


# Daily chance of using the crisis pathway (button / call) and of writing a message
# with crisis language: rare in anyone, higher as a deteriorator worsens and as a
# drifter fades.
CRISIS_NOISE = 0.0006
CRISIS_DETERIORATION = 0.006
CRISIS_DRIFT = 0.002
LANGUAGE_NOISE = 0.0006
LANGUAGE_DETERIORATION = 0.005
LANGUAGE_DRIFT = 0.0015


def crisis_chances(sim: Sim, day: int) -> tuple[float, float]:
    extra = progress(sim, day)
    if sim.kind in DETERIORATIONS:
        return (
            CRISIS_NOISE + CRISIS_DETERIORATION * extra,
            LANGUAGE_NOISE + LANGUAGE_DETERIORATION * extra,
        )
    if sim.kind in DROPOUTS and (sim.stopped_from is None or day < sim.stopped_from):
        return CRISIS_NOISE + CRISIS_DRIFT * extra, LANGUAGE_NOISE + LANGUAGE_DRIFT * extra
    return CRISIS_NOISE, LANGUAGE_NOISE


def true_mood(sim: Sim, day: int) -> float:
    if sim.kind == "improver":
        return 4 + 3 * min(day, 70) / 70
    # Daily mood falls about 0.4 points per PHQ-9 point of deterioration.
    return 5.0 - 0.4 * true_rise(sim, day)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=240)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--cohort",
        choices=sorted(COHORTS),
        default="tuning",
        help="the behaviour parameters: choose thresholds on tuning, judge them on holdout",
    )
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
    parser.add_argument(
        "--constant",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="tuning only: set a module constant of tether/flags/rules.py for this run",
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
    cohort = COHORTS[args.cohort]
    people = build_people(rng, args.patients, cohort)
    # Bursty patients: runs of days on and off, drawn once (geometric lengths).
    bursts: dict[int, list[bool]] = {}
    for index, sim in enumerate(people):
        if sim.bursty:
            on, days = True, []
            while len(days) < DAYS:
                mean = cohort.burst[0] if on else cohort.burst[1]
                days += [on] * max(1, round(rng.expovariate(1 / mean)))
                on = not on
            bursts[index] = days
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
    from tether.flags import rules as rules_module

    for item in args.constant:
        name, _sep, value = item.partition("=")
        current = getattr(rules_module, name)
        setattr(
            rules_module,
            name,
            value == "True" if isinstance(current, bool) else type(current)(value),
        )
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
        for index, sim in enumerate(people):
            if sim.kind in DROPOUTS and sim.event is not None and day >= sim.event:
                continue  # discharged (left early)
            mood_today = true_mood(sim, day)
            c = chances(sim, day, mood_today, cohort, bursts[index][day] if sim.bursty else True)
            when = today + dt.timedelta(hours=rng.randint(8, 21))
            if rng.random() < c["signin"]:
                logins.append((sim.ids["user"], when))
            if rng.random() < c["checkin"]:
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
                        {
                            "mood": max(
                                0, min(10, round(mood_today + rng.gauss(0, cohort.mood_noise)))
                            )
                        }
                        | ({"craving": craving(sim, day, rng)} if sim.substance_use else {}),
                    )
                )
            if day % 7 == sim.weekly_day and rng.random() < c["weekly"]:
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
                attended = rng.random() < c["attend"]
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
                done = rng.random() < c["homework"]
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
                if rng.random() < c["reply"]:
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
            # The RAISED event carries its source, as crisis.services writes it: the
            # crisis_pathway rule counts only the sources where the patient asked.
            UrgentContactEvent.objects.create(
                organization=org, request=urgent, kind="raised", occurred_at=when, source=source
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
            if sim.kind in DROPOUTS and day == sim.event:
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
    print(
        f"cohort: {cohort.name}, seed {args.seed}; constants: {args.constant or 'as in the code'}"
    )
    report(people, Flag, start, len(clinicians), sweep_seconds, list(RULES))


def classify(sim: Sim, day: int) -> str:
    """How a flag raised on ``day`` counts (docs/FLAGS.md, "How a flag is counted").

    ``timely``: on or after the onset of the patient's trouble, before the event day,
    and at most HORIZON (21) days before it. ``late``: on or after the event day of
    a deterioration (the patient is still deteriorated; dropouts are discharged on
    their event day). ``false``: everything else: no dropout or deterioration within
    the following 21 days, or raised before the trouble began."""
    if sim.event is None or sim.onset is None:
        return "false"
    if day >= sim.event:
        return "late" if sim.kind in DETERIORATIONS else "false"
    if day >= sim.onset and sim.event - day <= HORIZON:
        return "timely"
    return "false"


def report(people, flag_model, start, n_clinicians, sweep_seconds, codes) -> None:  # type: ignore[no-untyped-def]
    by_patient = {sim.ids["patient"]: sim for sim in people}
    first: dict[tuple[int, str], int] = {}
    false_flags: dict[str, int] = defaultdict(int)
    late_flags: dict[str, int] = defaultdict(int)
    for patient_id, reason, raised_at in flag_model.objects.values_list(
        "patient_id", "reason", "raised_at"
    ).order_by("raised_at"):
        sim = by_patient[patient_id]
        day = (raised_at - start).days
        counted = classify(sim, day)
        if counted == "false":
            false_flags[reason] += 1
        elif counted == "late":
            late_flags[reason] += 1
        else:
            first.setdefault((patient_id, reason), day)
    weeks = DAYS / 7
    rules = sorted(set(codes) | {reason for _, reason in first} | set(false_flags))
    fired = {reason for _, reason in first} | set(false_flags) | set(late_flags)
    print(
        "| rule | dropouts flagged (≥ 7 d ahead) | median days of warning "
        "| gradual deteriorations flagged | median days | sudden deteriorations flagged "
        "| median days | false flags per clinician-week | late flags |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for kind_rule in [*[r for r in rules if r in fired], "any rule"]:
        cells = []
        for kinds in (DROPOUTS, ("gradual",), ("sudden",)):
            group = [s for s in people if s.kind in kinds]
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
            if kinds == DROPOUTS:
                ahead = sum(1 for w in warnings if w >= 7)
                share += f" ({ahead}, {100 * ahead / max(1, len(group)):.0f} %)"
            median = f"{statistics.median(warnings):.0f}" if warnings else "—"
            cells += [share, median]
        for counts in (false_flags, late_flags):
            n = sum(counts.values()) if kind_rule == "any rule" else counts.get(kind_rule, 0)
            cells.append(f"{n / (n_clinicians * weeks):.2f}" if counts is false_flags else str(n))
        print(f"| {kind_rule} | " + " | ".join(cells) + " |")
    print()
    kinds = ", ".join(f"{k} {sum(1 for s in people if s.kind == k)}" for k, _n in MIX)
    print(f"patients: {kinds}; craving_rise: substance-use program only.")
    print(
        f"{len(people)} patients, {n_clinicians} clinicians, {DAYS} days; sweep: median "
        f"{statistics.median(sweep_seconds) * 1000:.0f} ms, max {max(sweep_seconds) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
