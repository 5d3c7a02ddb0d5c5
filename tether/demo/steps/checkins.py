"""Daily check-ins and weekly measures over each patient's weeks in care, following
their story: the improving patient's PHQ-9 falls from 18 to 9; the deteriorating
one's rises, with one item-9 answer and its safety flag; the silent one stops ten
days ago; the substance-use patient's cravings ease. Everyone else stays roughly
flat. Bulk inserts only, so the seed stays fast.

Today's daily check-in and the current week's measures are left open for the
story people, so signing in as them shows what is due.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

from tether.checkins.models import Answer, Instrument, ProgramInstrument, Response
from tether.checkins.sync import sync_instruments
from tether.demo import roster
from tether.demo.context import DemoContext
from tether.demo.stories import STORIES, Story
from tether.flags.models import Flag
from tether.patients.models import Episode
from tether.privacy.gate import record_category_for
from tether.privacy.policy import Category

S = ProgramInstrument.Schedule
SCHEDULES: dict[str, tuple[tuple[str, str], ...]] = {
    "php": (("daily", S.DAILY), ("phq9", S.WEEKLY), ("gad7", S.WEEKLY)),
    "iop": (("daily", S.DAILY), ("phq9", S.WEEKLY), ("gad7", S.WEEKLY)),
    "teen": (("daily", S.DAILY), ("phq9", S.WEEKLY), ("gad7", S.BEFORE_SESSION)),
    "recovery": (("daily", S.DAILY), ("phq9", S.WEEKLY), ("gad7", S.WEEKLY)),
}

# PHQ-9 totals week by week (the last value is the most recent), per story.
PHQ9_PATH = {
    Story.IMPROVING: (18, 17, 15, 14, 12, 11, 9),
    Story.DETERIORATING: (11, 10, 10, 13, 15, 17),
    Story.SILENT: (14, 13, 13, 12),
    Story.ADOLESCENT: (13, 12, 13, 12, 11),
    Story.SUBSTANCE_USE: (12, 11, 10, 9),
}
MOOD_PATH = {  # daily mood, first day to last
    Story.IMPROVING: (3, 7),
    Story.DETERIORATING: (6, 3),
    Story.SILENT: (5, 5),
    Story.ADOLESCENT: (5, 6),
    Story.SUBSTANCE_USE: (4, 6),
}
CHECK_IN_RATE = {Story.IMPROVING: 0.93, Story.DETERIORATING: 0.8, Story.SUBSTANCE_USE: 0.85}


def _spread(total: int, items: int, rng: random.Random, cap: int = 3) -> list[int]:
    """Item values 0..cap adding up to ``total``, at random."""
    values = [0] * items
    for _ in range(total):
        choices = [i for i, v in enumerate(values) if v < cap]
        values[rng.choice(choices)] += 1
    return values


def _at(ctx: DemoContext, day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ctx.tz)


def _path_value(path: tuple[int, ...], fraction: float) -> float:
    start, end = path[0], path[-1]
    return start + (end - start) * fraction


def run(ctx: DemoContext) -> None:
    sync_instruments()
    instruments = {i.code: i for i in Instrument.objects.filter(is_current=True)}
    ProgramInstrument.objects.bulk_create(
        ProgramInstrument(
            organization=ctx.org, program=ctx.programs[key], instrument_code=code, schedule=when
        )
        for key, pairs in SCHEDULES.items()
        if key in ctx.programs
        for code, when in pairs
    )
    story_of = {username: role.story for username, role in STORIES.items()}
    responses: list[Response] = []
    answers: dict[int, list[tuple[str, int | None, str | None]]] = {}
    flag_for: list[int] = []  # indexes into responses that raise a safety flag
    today = ctx.today
    this_week = today.isocalendar()[:2]

    for spec in roster.PATIENTS:
        if spec.last_login_days_ago is None or spec.username not in ctx.patients:
            continue
        patient = ctx.patients[spec.username]
        episode: Episode = ctx.episodes[spec.username]
        story = story_of.get(spec.username)
        rng = ctx.rng("checkins", spec.username)
        first = episode.admitted_on
        last = min(
            episode.discharged_on or today,
            (ctx.now - dt.timedelta(days=spec.last_login_days_ago)).astimezone(ctx.tz).date(),
        )
        if spec.stopped_attending_days_ago is not None:
            last = min(last, today - dt.timedelta(days=spec.stopped_attending_days_ago))
        if last >= today:
            last = today - dt.timedelta(days=1)  # today's check-in is left to do
        days = (last - first).days + 1
        if days <= 0:
            continue
        craving = ctx.programs[spec.program].treats_substance_use or (
            ctx.timelines[spec.username].current_program == "recovery"
        )
        # Labelled as at capture: a Part 2 program's check-ins are Part 2 records.
        label = record_category_for(episode, Category.SELF_REPORT)
        base_mood = MOOD_PATH.get(story or Story.SILENT, (rng.randint(4, 6),) * 2)
        rate = CHECK_IN_RATE.get(story or Story.SILENT, 0.7) if story else rng.uniform(0.5, 0.85)
        slipping_from = (
            today - dt.timedelta(days=spec.slipping_since_days_ago)
            if spec.slipping_since_days_ago is not None
            else None
        )

        # Daily check-ins.
        for offset in range(days):
            day = first + dt.timedelta(days=offset)
            day_rate = rate * (0.45 if slipping_from and day >= slipping_from else 1)
            if rng.random() > day_rate:
                continue
            fraction = offset / max(days - 1, 1)
            mood = round(_path_value(base_mood, fraction) + rng.choice((-1, 0, 0, 1)))
            mood = max(0, min(10, mood))
            when = _at(ctx, day, rng.randint(18, 21), rng.randint(0, 59))
            item_answers: list[tuple[str, int | None, str | None]] = [
                ("mood", mood, None),
                ("sleep", max(0, min(3, round(mood / 3) + rng.choice((-1, 0, 0)))), None),
            ]
            if craving:
                level = round(_path_value((7, 3), fraction) + rng.choice((-1, 0, 1)))
                item_answers.append(("craving", max(0, min(10, level)), None))
            item_answers.append(("note", None, None))
            answers[len(responses)] = item_answers
            responses.append(
                Response(
                    organization=ctx.org,
                    patient=patient,
                    episode=episode,
                    record_category=label,
                    instrument=instruments["daily"],
                    window=f"daily:{day.isoformat()}",
                    status=Response.Status.COMPLETE,
                    started_at=when - dt.timedelta(seconds=rng.randint(25, 55)),
                    expires_at=_at(ctx, day + dt.timedelta(days=1), 0, 0),
                    submitted_at=when,
                )
            )

        # Weekly PHQ-9 and GAD-7 (Sunday evening of each full week in care).
        weeks = []
        day = first
        while day <= last:
            if day.isocalendar()[:2] != this_week or story is None:
                weeks.append(day)
            day += dt.timedelta(days=7)
        if story is not None:
            weeks = weeks[-len(PHQ9_PATH.get(story, weeks)) :]
        default_path = (rng.randint(6, 15),) * 2
        phq9_path = PHQ9_PATH.get(story, default_path) if story else default_path
        for index, day in enumerate(weeks):
            fraction = index / max(len(weeks) - 1, 1)
            if story in PHQ9_PATH:
                path = PHQ9_PATH[story]
                phq9 = path[round(fraction * (len(path) - 1))]
            else:
                phq9 = round(_path_value(phq9_path, fraction)) + rng.choice((-1, 0, 1))
            item9 = 1 if story == Story.DETERIORATING and index == len(weeks) - 1 else 0
            phq9 = max(item9, min(24 + item9, phq9))
            gad7 = max(0, min(21, round(phq9 * 0.75) + rng.choice((-1, 0, 1))))
            when = _at(ctx, day, rng.randint(9, 20), rng.randint(0, 59))
            phq9_items = [*_spread(phq9 - item9, 8, rng), item9]
            for code, total, values in (
                ("phq9", phq9, phq9_items),
                ("gad7", gad7, _spread(gad7, 7, rng)),
            ):
                instrument = instruments[code]
                band = instrument.spec.band_for(total)
                item_answers = [(str(n), v, None) for n, v in enumerate(values, start=1)]
                if code == "phq9":
                    item_answers.append(("10", min(3, total // 7), None))
                if item9 and code == "phq9":
                    flag_for.append(len(responses))
                answers[len(responses)] = item_answers
                year, week, _ = day.isocalendar()
                responses.append(
                    Response(
                        organization=ctx.org,
                        patient=patient,
                        episode=episode,
                        record_category=label,
                        instrument=instrument,
                        window=f"weekly:{year}-W{week:02d}",
                        status=Response.Status.COMPLETE,
                        started_at=when - dt.timedelta(minutes=2),
                        expires_at=when + dt.timedelta(days=7),
                        submitted_at=when,
                        total=total,
                        band=band.code if band else "",
                    )
                )

    created = Response.objects.bulk_create(responses)
    Answer.objects.bulk_create(
        Answer(
            organization=ctx.org,
            response=created[index],
            item_code=code,
            value=value,
            text=text,
            answered_at=created[index].submitted_at or ctx.now,
        )
        for index, rows in answers.items()
        for code, value, text in rows
    )
    Flag.objects.bulk_create(
        Flag(
            organization=ctx.org,
            patient=created[index].patient,
            episode=created[index].episode,
            kind=Flag.Kind.SAFETY,
            reason=Flag.Reason.PHQ9_ITEM9,
            source_type=Response._meta.label_lower,
            source_id=created[index].pk,
            raised_at=created[index].submitted_at or ctx.now,
        )
        for index in flag_for
    )
    counts: dict[str, int] = defaultdict(int)
    for response in created:
        counts[response.instrument.code] += 1
    ctx.counts["daily check-ins"] = counts["daily"]
    ctx.counts["PHQ-9 and GAD-7 responses"] = counts["phq9"] + counts["gad7"]
    ctx.counts["safety flags"] = len(flag_for)
