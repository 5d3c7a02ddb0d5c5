"""Group sessions, weekly individual sessions (alternating with family sessions for
teens), and who came: eight weeks of attendance, two weeks of bookings.

The two weeks ahead are booked through the scheduling services, as the front desk
would: each program's recurring group (``series_create``) with its roster
(``roster_add``), each individual or family session (``session_book``), and the
holidays in those weeks (``program_closure_add``). The eight weeks behind are written
as rows with their attendance, because the services refuse to book in the past.

Attendance follows each person's story with exact rates, not coin flips: a
patient whose spec says 90% attended 90% of their past sessions (rounded), with
the misses placed at random. So the stories hold on whatever day the demo is
built.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import TYPE_CHECKING

from tether.demo import roster
from tether.demo.clinic_calendar import is_open
from tether.demo.context import DemoContext
from tether.organizations.services import program_closure_add
from tether.scheduling.models import Appointment, Attendance, GroupSeries
from tether.scheduling.services import roster_add, series_create, session_book

if TYPE_CHECKING:
    from tether.accounts.models import User

Status = Attendance.Status
_SLIPPING_ATTENDANCE = 0.35  # the share still attended once a patient starts to slip
_SLIPPING_LATE_SHARE = 0.5
_SLIPPING_LAST_MISSED = 2  # a slipping patient missed the most recent sessions
_EXCUSED_SHARE = 0.3  # of the sessions missed, the share the patient called ahead about
_RECORDED_AFTER = dt.timedelta(minutes=15)


def _minutes(time: dt.time) -> int:
    return time.hour * 60 + time.minute


def _individual_slots(ctx: DemoContext) -> dict[str, tuple[int, dt.time]]:
    """One weekly time per patient, with their primary therapist, never clashing with
    another of that therapist's sessions or the groups they run."""
    busy: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
    for program in roster.PROGRAMS:
        group = program.group
        for weekday in group.weekdays:
            start = _minutes(group.starts)
            busy[(group.facilitator, weekday)].append((start, start + group.minutes))
    slots: dict[str, tuple[int, dt.time]] = {}
    for spec in roster.PATIENTS:
        candidates = list(roster.PROGRAMS_BY_KEY[spec.program].individual_slots)
        ctx.rng("slot", spec.username).shuffle(candidates)
        for weekday, time in candidates:
            start = _minutes(time)
            end = start + roster.INDIVIDUAL_MINUTES
            taken = busy[(spec.primary, weekday)]
            if all(end <= other_start or start >= other_end for other_start, other_end in taken):
                taken.append((start, end))
                slots[spec.username] = (weekday, time)
                break
        else:
            raise RuntimeError(f"No free individual-session time for {spec.username}.")
    return slots


def _phase(
    count: int,
    *,
    attended_share: float,
    late_share: float,
    excused_share: float,
    rng: random.Random,
    missed_last: int = 0,
) -> list[Attendance.Status]:
    """Statuses for ``count`` sessions in order: exactly ``round(count * attended_share)``
    attended (or as many as ``missed_last`` leaves), the misses at random."""
    forced = min(missed_last, count)
    attended = min(round(count * attended_share), count - forced)
    open_positions = list(range(count - forced))
    missed = set(range(count - forced, count))
    missed |= set(rng.sample(open_positions, count - forced - attended))
    statuses = []
    for position in range(count):
        if position in missed:
            statuses.append(Status.EXCUSED if rng.random() < excused_share else Status.ABSENT)
        else:
            statuses.append(Status.LATE if rng.random() < late_share else Status.ATTENDED)
    return statuses


def _past_statuses(
    ctx: DemoContext, spec: roster.PatientSpec, past: list[Appointment]
) -> list[Attendance.Status]:
    rng = ctx.rng("attendance", spec.username)
    turning_point = spec.stopped_attending_days_ago or spec.slipping_since_days_ago
    cutoff = ctx.days_ago(turning_point) if turning_point is not None else ctx.now
    before = sum(1 for appointment in past if appointment.starts_at < cutoff)
    after = len(past) - before
    statuses = _phase(
        before,
        attended_share=spec.attendance,
        late_share=spec.late_share,
        excused_share=_EXCUSED_SHARE,
        rng=rng,
    )
    if spec.stopped_attending_days_ago is not None:
        # Gone quiet: no call, no show.
        return statuses + [Status.ABSENT] * after
    return statuses + _phase(
        after,
        attended_share=_SLIPPING_ATTENDANCE,
        late_share=_SLIPPING_LATE_SHARE,
        excused_share=0.0,
        rng=rng,
        missed_last=_SLIPPING_LAST_MISSED,
    )


def _closures_ahead(ctx: DemoContext, user: User) -> None:
    """The holidays in the booked weeks, entered as the admin would (the recurring
    groups leave them out)."""
    last = ctx.today + dt.timedelta(days=roster.BOOKED_AHEAD_DAYS)
    for program in ctx.programs.values():
        closed = set(program.closures.values_list("date", flat=True))
        day = ctx.today
        while day <= last:
            if day.weekday() < 5 and not is_open(day) and day not in closed:
                program_closure_add(program=program, date=day, reason="Holiday", user=user)
            day += dt.timedelta(days=1)


def _groups_ahead(ctx: DemoContext, user: User) -> dict[str, GroupSeries]:
    """Each program's recurring group from its next meeting to the end of the booked
    weeks, through ``series_create``; the patients in that program today go on its
    roster through ``roster_add``."""
    last = ctx.today + dt.timedelta(days=roster.BOOKED_AHEAD_DAYS)
    series_of: dict[str, GroupSeries] = {}
    for spec in roster.PROGRAMS:
        program = ctx.programs[spec.key]
        group = spec.group
        first = ctx.today
        if dt.datetime.combine(first, group.starts, tzinfo=program.tzinfo) <= ctx.now:
            first += dt.timedelta(days=1)  # today's meeting has started: it is history
        series_of[spec.key] = series_create(
            program=program,
            title=group.title,
            weekdays="".join(str(day) for day in group.weekdays),
            starts_at_time=group.starts,
            minutes=group.minutes,
            first_day=first,
            last_day=last,
            facilitator=ctx.staff[group.facilitator],
            location=group.location,
            video_url="",
            user=user,
            now=ctx.now,
        )
    for patient_spec in roster.PATIENTS:
        timeline = ctx.timelines[patient_spec.username]
        if timeline.discharged_on is not None:
            continue
        roster_add(
            series=series_of[timeline.current_program],
            patient=ctx.patients[patient_spec.username],
            user=user,
            now=ctx.now,
        )
    return series_of


def run(ctx: DemoContext) -> None:
    """History (every session that has started) is written as rows, with who came:
    the services refuse to book in the past, rightly. What is still to come is booked
    through the services the front desk uses."""
    org = ctx.org
    desk = ctx.users["demo.frontdesk"]
    first_day = ctx.today - dt.timedelta(days=roster.HISTORY_DAYS)
    offices = {spec.username: spec.office for spec in roster.STAFF}

    # Who was in which program's group on which day, up to the meetings already begun.
    group_members: dict[tuple[str, dt.date], list[str]] = defaultdict(list)
    for spec in roster.PATIENTS:
        for segment in ctx.timelines[spec.username].segments:
            weekdays = roster.PROGRAMS_BY_KEY[segment.program].group.weekdays
            day = max(segment.starts_on, first_day)
            while day <= min(segment.ends_on, ctx.today):
                if day.weekday() in weekdays and is_open(day):
                    group_members[(segment.program, day)].append(spec.username)
                day += dt.timedelta(days=1)

    appointments: list[Appointment] = []
    sessions_of: dict[str, list[Appointment]] = defaultdict(list)
    for (program_key, day), members in sorted(group_members.items()):
        program = roster.PROGRAMS_BY_KEY[program_key]
        local_time = ctx.programs[program_key].tzinfo  # sessions run on the program's clock
        starts_at = dt.datetime.combine(day, program.group.starts, tzinfo=local_time)
        if starts_at > ctx.now:
            continue  # still to come: the recurring group below
        appointment = Appointment(
            organization=org,
            program=ctx.programs[program_key],
            kind=Appointment.Kind.GROUP,
            title=program.group.title,
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(minutes=program.group.minutes),
            clinician=ctx.staff[program.group.facilitator],
            location=program.group.location,
        )
        appointments.append(appointment)
        for username in members:
            sessions_of[username].append(appointment)

    slots = _individual_slots(ctx)
    bookings: list[tuple[roster.PatientSpec, str, str, dt.datetime]] = []
    for spec in roster.PATIENTS:
        timeline = ctx.timelines[spec.username]
        weekday, time = slots[spec.username]
        day = timeline.admitted_on + dt.timedelta(days=1)
        day += dt.timedelta(days=(weekday - day.weekday()) % 7)
        week = 0
        while day <= timeline.last_day:
            in_program = timeline.segment_on(day)
            if is_open(day) and in_program is not None:
                family = spec.program == "teen" and week % 2 == 1
                local_time = ctx.programs[in_program.program].tzinfo
                starts_at = dt.datetime.combine(day, time, tzinfo=local_time)
                kind: str = Appointment.Kind.FAMILY if family else Appointment.Kind.INDIVIDUAL
                if starts_at > ctx.now:
                    bookings.append((spec, in_program.program, kind, starts_at))
                else:
                    appointment = Appointment(
                        organization=org,
                        program=ctx.programs[in_program.program],
                        kind=kind,
                        title="Family session" if family else "Individual session",
                        starts_at=starts_at,
                        ends_at=starts_at + dt.timedelta(minutes=roster.INDIVIDUAL_MINUTES),
                        clinician=ctx.staff[spec.primary],
                        location=offices[spec.primary],
                    )
                    appointments.append(appointment)
                    sessions_of[spec.username].append(appointment)
            day += dt.timedelta(days=7)
            week += 1
    Appointment.objects.bulk_create(appointments)

    attendance = []
    for spec in roster.PATIENTS:
        sessions = sorted(sessions_of[spec.username], key=lambda a: a.starts_at)
        past = [appointment for appointment in sessions if appointment.ends_at <= ctx.now]
        under_way = [appointment for appointment in sessions if appointment.ends_at > ctx.now]
        statuses = _past_statuses(ctx, spec, past)
        patient, episode = ctx.patients[spec.username], ctx.episodes[spec.username]
        for appointment, status in zip(past, statuses, strict=True):
            attendance.append(
                Attendance(
                    organization=org,
                    appointment=appointment,
                    patient=patient,
                    episode=episode,
                    status=status,
                    recorded_by=appointment.clinician,
                    recorded_at=appointment.ends_at + _RECORDED_AFTER,
                )
            )
        for appointment in under_way:  # begun, not yet over: nobody has marked it yet
            attendance.append(
                Attendance(
                    organization=org,
                    appointment=appointment,
                    patient=patient,
                    episode=episode,
                    status=Status.SCHEDULED,
                )
            )
    Attendance.objects.bulk_create(attendance, batch_size=500)

    # Still to come, through the services.
    _closures_ahead(ctx, ctx.users["demo.admin"])
    series_of = _groups_ahead(ctx, desk)
    for spec, program_key, kind, starts_at in bookings:
        session_book(
            program=ctx.programs[program_key],
            patient=ctx.patients[spec.username],
            kind=kind,
            starts_at=starts_at,
            minutes=roster.INDIVIDUAL_MINUTES,
            clinician=ctx.staff[spec.primary],
            location=offices[spec.primary],
            video_url="",
            user=desk,
            now=ctx.now,
        )
    ahead = Appointment.objects.filter(program__organization=org, starts_at__gt=ctx.now)
    ctx.counts["appointments"] = len(appointments) + ahead.count()
    ctx.counts["attendance records"] = Attendance.objects.filter(organization=org).count()
    ctx.counts["recurring groups"] = len(series_of)
