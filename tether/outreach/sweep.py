"""The reminder sweep (every 5 minutes on the worker: ``tether/crisis/scheduler.py``).

Set-based: a fixed number of queries per program (a handful of programs), never one per
patient. What it finds:

- a check-in due (daily or weekly) and not started, from ``CHECKIN_FROM`` program time;
- a session tomorrow (from ``SESSION_DAY_BEFORE_FROM`` the day before) and a session
  within the next 2 hours;
- homework due tomorrow and not done, from ``HOMEWORK_FROM`` the day before;
- a care-team message the patient has not read an hour after it was sent.

Each candidate is kept only if the patient chose that kind and a channel, is outside
their quiet hours (their own clock), and, for check-ins and homework, has no open
disengagement flag: a patient who has stopped engaging is not nagged; the flag puts a
person on it instead. At most one reminder per kind per window per channel: the
``dedupe_key`` (unique with the patient and channel) makes a second sweep, or two at
once, send nothing new.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, Q
from django.utils import formats, timezone

from tether.checkins.models import Instrument, ProgramInstrument, Response
from tether.checkins.schedule import window_for
from tether.flags.models import Flag
from tether.flags.models import Kind as FlagKind
from tether.homework.models import Assignment
from tether.messaging.models import Thread
from tether.organizations.models import Program
from tether.outreach import content
from tether.outreach.models import Channel, ContactPreference, Kind, PushSubscription
from tether.outreach.services import Draft, in_quiet_hours, queue_many, tz_of
from tether.patients.models import Episode
from tether.privacy.models import Purpose
from tether.scheduling.models import Attendance

CHECKIN_FROM = dt.time(17, 0)
SESSION_DAY_BEFORE_FROM = dt.time(10, 0)
HOMEWORK_FROM = dt.time(17, 0)
SESSION_SOON = dt.timedelta(hours=2)
MESSAGE_UNREAD_FOR = dt.timedelta(hours=1)
PAUSED_BY_DISENGAGEMENT = frozenset({Kind.CHECKIN_DUE, Kind.HOMEWORK_DUE})


@dataclass(frozen=True)
class Candidate:
    patient_id: int
    program: Program
    kind: str
    dedupe_key: str
    values: tuple[tuple[str, str], ...] = ()


def _checkins(program: Program, now: dt.datetime) -> list[Candidate]:
    local = now.astimezone(program.tzinfo)
    if local.time() < CHECKIN_FROM:
        return []
    found = []
    schedules = ProgramInstrument.objects.filter(
        program=program,
        is_active=True,
        schedule__in=[ProgramInstrument.Schedule.DAILY, ProgramInstrument.Schedule.WEEKLY],
    )
    current = dict(Instrument.objects.filter(is_current=True).values_list("code", "pk"))
    for schedule in schedules:
        window = window_for(schedule.schedule, now=now, tz=program.tzinfo, next_appointment=None)
        instrument_id = current.get(schedule.instrument_code)
        if window is None or instrument_id is None:
            continue
        started = Response.objects.filter(
            patient_id=OuterRef("patient_id"), instrument_id=instrument_id, window=window.key
        )
        ids = (
            Episode.objects.filter(program=program, status=Episode.Status.ACTIVE)
            .filter(~Exists(started))
            .values_list("patient_id", flat=True)
        )
        # One reminder per window, whatever the number of questionnaires due in it.
        found += [Candidate(pid, program, Kind.CHECKIN_DUE, f"checkin:{window.key}") for pid in ids]
    return found


def _sessions(program: Program, now: dt.datetime) -> list[Candidate]:
    tz = program.tzinfo
    local = now.astimezone(tz)
    found: list[Candidate] = []
    base = Attendance.objects.filter(
        appointment__program=program,
        appointment__is_cancelled=False,
        status=Attendance.Status.SCHEDULED,
    ).values_list("patient_id", "appointment_id", "appointment__starts_at")
    if local.time() >= SESSION_DAY_BEFORE_FROM:
        tomorrow = local.date() + dt.timedelta(days=1)
        start = dt.datetime.combine(tomorrow, dt.time.min, tzinfo=tz)
        end = start + dt.timedelta(days=1)
        for pid, appointment_id, starts_at in base.filter(
            appointment__starts_at__gte=start, appointment__starts_at__lt=end
        ):
            found.append(
                Candidate(
                    pid,
                    program,
                    Kind.SESSION_TOMORROW,
                    f"session_tomorrow:{appointment_id}",
                    (("time", _time(starts_at, program)),),
                )
            )
    for pid, appointment_id, starts_at in base.filter(
        appointment__starts_at__gt=now, appointment__starts_at__lte=now + SESSION_SOON
    ):
        found.append(
            Candidate(
                pid,
                program,
                Kind.SESSION_SOON,
                f"session_soon:{appointment_id}",
                (("time", _time(starts_at, program)),),
            )
        )
    return found


def _time(moment: dt.datetime, program: Program) -> str:
    return formats.time_format(moment.astimezone(program.tzinfo), "g:i A")


def _homework(program: Program, now: dt.datetime) -> list[Candidate]:
    local = now.astimezone(program.tzinfo)
    if local.time() < HOMEWORK_FROM:
        return []
    tomorrow = local.date() + dt.timedelta(days=1)
    active = Episode.objects.filter(
        program=program, status=Episode.Status.ACTIVE, patient_id=OuterRef("patient_id")
    )
    rows = (
        Assignment.objects.filter(due_on=tomorrow)
        .exclude(status=Assignment.Status.DONE)
        .filter(Exists(active))
        .values_list("patient_id", "pk")
    )
    day = formats.date_format(tomorrow, "l")
    return [
        Candidate(pid, program, Kind.HOMEWORK_DUE, f"homework:{pk}", (("day", day),))
        for pid, pk in rows
    ]


def _messages(now: dt.datetime, programs: dict[int, Program]) -> list[Candidate]:
    rows = (
        Thread.objects.filter(
            kind=Thread.Kind.PATIENT,
            last_team_message_at__lte=now - MESSAGE_UNREAD_FOR,
            last_team_message_at__gt=now - dt.timedelta(days=2),
        )
        .filter(Q(patient_read_at__isnull=True) | Q(patient_read_at__lt=F("last_team_message_at")))
        .filter(patient__episodes__status=Episode.Status.ACTIVE)
        .values_list("patient_id", "pk", "last_team_message_at", "patient__episodes__program_id")
    )
    return [
        Candidate(pid, programs[prog], Kind.CARE_TEAM_MESSAGE, f"message:{tid}:{at:%Y%m%d%H%M%S}")
        for pid, tid, at, prog in rows
        if prog in programs
    ]


def reminders_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Find what is due, keep what each patient chose, queue it; returns counts by kind."""
    now = now or timezone.now()
    programs = {p.pk: p for p in Program.objects.filter(is_active=True)}
    candidates: list[Candidate] = []
    for program in programs.values():
        candidates += _checkins(program, now)
        candidates += _sessions(program, now)
        candidates += _homework(program, now)
    candidates += _messages(now, programs)
    if not candidates:
        return {}
    patient_ids = {c.patient_id for c in candidates}
    prefs = {
        p.patient_id: p
        for p in ContactPreference.objects.filter(patient_id__in=patient_ids).select_related(
            "patient", "patient__user"
        )
    }
    disengaged = set(
        Flag.objects.filter(
            patient_id__in=prefs.keys(), kind=FlagKind.DISENGAGEMENT, status=Flag.Status.OPEN
        ).values_list("patient_id", flat=True)
    )
    pushes: dict[int, list[int]] = defaultdict(list)
    for sub_id, pid in PushSubscription.objects.filter(patient_id__in=prefs.keys()).values_list(
        "pk", "patient_id"
    ):
        pushes[pid].append(sub_id)
    drafts: list[Draft] = []
    for c in candidates:
        pref = prefs.get(c.patient_id)
        if pref is None or not pref.wants(c.kind):
            continue
        if c.kind in PAUSED_BY_DISENGAGEMENT and c.patient_id in disengaged:
            continue
        if in_quiet_hours(
            quiet_from=pref.quiet_from,
            quiet_until=pref.quiet_until,
            tz=tz_of(pref, c.program),
            now=now,
        ):
            continue
        link = content.make_link(patient_id=c.patient_id, kind=c.kind)
        body = content.render(c.kind, link=link, **dict(c.values))
        targets: list[tuple[str, str]] = []
        if pref.sms_allowed:
            targets.append((Channel.SMS, pref.sms_phone))
        if pref.by_push:
            targets += [(Channel.PUSH, str(sub)) for sub in pushes.get(c.patient_id, [])]
        user = pref.patient.user
        if pref.by_email and user is not None and user.email:
            targets.append((Channel.EMAIL, user.email))
        for channel, to in targets:
            key = c.dedupe_key if channel != Channel.PUSH else f"{c.dedupe_key}:{to}"
            drafts.append(Draft(pref.patient, channel, c.kind, to, body, key))
    queued = queue_many(drafts, now=now, purpose=Purpose.TREATMENT)
    counts: dict[str, int] = defaultdict(int)
    for message in queued:
        counts[message.kind] += 1
    return dict(counts)
