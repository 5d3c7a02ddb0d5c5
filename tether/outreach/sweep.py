"""The reminder sweep (every 5 minutes on the worker: ``tether/crisis/scheduler.py``).

Set-based: a fixed number of queries per program (a handful of programs), never one per
patient. What it finds:

- a check-in due (daily or weekly) and not started, from ``CHECKIN_FROM`` program time;
- a session tomorrow (from ``SESSION_DAY_BEFORE_FROM`` the day before) and a session
  within the next 2 hours;
- homework due tomorrow and not done, from ``HOMEWORK_FROM`` the day before;
- a care-team message the patient has not read an hour after it was sent.

Every finder is ONE query that already keeps only the patients who chose that kind and
can be reached (a channel with consent), who, for check-ins and homework, have no open
disengagement flag (a patient who has stopped engaging is not nagged; the flag puts a
person on it instead), and who have NOT been reminded in this window yet (``NOT EXISTS``
on the outbox's ``dedupe_key``). Only what is left is rendered, signed and checked, so a
sweep with nothing new costs a handful of index probes, not a link per patient. Quiet
hours are read on each patient's own clock (once per time zone, not per patient). At most
one reminder per kind per window: the ``dedupe_key`` is unique with the patient and
channel, so two sweeps at once still send nothing twice (the loser's insert fails).
"""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat
from django.utils import formats, timezone
from django.utils.translation import gettext

from tether.checkins.models import Instrument, ProgramInstrument, Response
from tether.checkins.schedule import window_for
from tether.flags.models import Flag
from tether.flags.models import Kind as FlagKind
from tether.homework.models import Assignment
from tether.messaging.models import Thread
from tether.organizations.models import Program
from tether.outreach import content
from tether.outreach.conversation import DAILY, MEASURES, question
from tether.outreach.models import (
    Channel,
    ContactPreference,
    Kind,
    OutboundMessage,
    ProgramTextSetting,
    PushSubscription,
)
from tether.outreach.services import Draft, forbidden_names, in_quiet_hours, queue_many
from tether.patients.models import Episode, Patient
from tether.privacy.models import Purpose
from tether.scheduling.models import Attendance

CHECKIN_FROM = dt.time(17, 0)
SESSION_DAY_BEFORE_FROM = dt.time(10, 0)
HOMEWORK_FROM = dt.time(17, 0)
SESSION_SOON = dt.timedelta(hours=2)
MESSAGE_UNREAD_FOR = dt.timedelta(hours=1)
# Reminders stored per transaction (messages + audit events), then handed over.
CHUNK = 2000
PAUSED_BY_DISENGAGEMENT = frozenset({Kind.CHECKIN_DUE, Kind.HOMEWORK_DUE})

# Which preference switch answers for a kind.
SWITCH: dict[str, str] = {
    Kind.CHECKIN_DUE: "checkin_due",
    Kind.SESSION_TOMORROW: "session_reminder",
    Kind.SESSION_SOON: "session_reminder",
    Kind.HOMEWORK_DUE: "homework_due",
    Kind.CARE_TEAM_MESSAGE: "care_team_message",
}

# The preference's columns read for each row found (through the patient).
_PREF = "patient__contact_preference__"
_PREF_FIELDS = {
    "o_org": "patient__organization_id",
    "o_phone": _PREF + "sms_phone",
    "o_sms_ok": None,  # annotated below
    "o_push": _PREF + "by_push",
    "o_email": None,  # annotated below
    "o_tz": _PREF + "time_zone",
    "o_quiet_from": _PREF + "quiet_from",
    "o_quiet_until": _PREF + "quiet_until",
}


@dataclass(frozen=True)
class Found:
    """One query's rows: patients due a reminder of ``kind`` in ``program``."""

    program: Program
    kind: str
    rows: list[dict[str, Any]]
    body: str = ""  # a text with no link, the same for every row (SMS only)
    offer: str = ""  # a questionnaire offered by text: remembered on the preference


def _reachable(kind: str) -> Q:
    """Chose the kind and has a channel with consent (SMS opt-in not stopped; push with a
    subscription; e-mail with an address on the account)."""
    has_push = Exists(PushSubscription.objects.filter(patient_id=OuterRef("patient_id")))
    sms = (
        Q(**{_PREF + "by_sms": True, _PREF + "sms_opted_in_at__isnull": False})
        & Q(**{_PREF + "sms_stopped_at__isnull": True})
        & ~Q(**{_PREF + "sms_phone": ""})
    )
    push = Q(**{_PREF + "by_push": True}) & Q(has_push)
    email = (
        Q(**{_PREF + "by_email": True})
        & ~Q(patient__user__email="")
        & Q(patient__user__isnull=False)
    )
    if kind not in SWITCH:  # the question itself: asked for by "answer by text"
        return sms & Q(**{_PREF + "daily_checkin_by_text": True})
    return Q(**{_PREF + SWITCH[kind]: True}) & (sms | push | email)


def _due(qs: QuerySet[Any], kind: str, key: Any, *extra: str) -> list[dict[str, Any]]:
    """Keep, in SQL, the rows whose patient wants ``kind``, can be reached, is not paused by
    a disengagement flag and has not had this reminder (``key``: its ``dedupe_key``)."""
    reminded = OutboundMessage.objects.filter(
        patient_id=OuterRef("patient_id"), dedupe_key=OuterRef("dedupe_key")
    )
    qs = qs.annotate(dedupe_key=key).filter(_reachable(kind)).filter(~Exists(reminded))
    if kind in PAUSED_BY_DISENGAGEMENT:
        flagged = Flag.objects.filter(
            patient_id=OuterRef("patient_id"),
            kind=FlagKind.DISENGAGEMENT,
            status=Flag.Status.OPEN,
        )
        qs = qs.filter(~Exists(flagged))
    sms_ok = Q(**{_PREF + "by_sms": True, _PREF + "sms_opted_in_at__isnull": False}) & Q(
        **{_PREF + "sms_stopped_at__isnull": True}
    )
    qs = qs.annotate(
        o_sms_ok=_case(sms_ok),
        o_email=_case(Q(**{_PREF + "by_email": True}), F("patient__user__email")),
        **{name: F(path) for name, path in _PREF_FIELDS.items() if path},
    )
    return list(qs.values("patient_id", "dedupe_key", *_PREF_FIELDS, *extra).distinct())


def _case(condition: Q, then: Any = None) -> Any:
    if then is None:
        return Case(
            When(condition, then=Value(True)), default=Value(False), output_field=BooleanField()
        )
    return Case(When(condition, then=then), default=Value(""), output_field=CharField())


def _key(prefix: str, field: str) -> Concat:
    return Concat(Value(prefix), Cast(field, CharField()), output_field=CharField())


def _checkins(program: Program, now: dt.datetime) -> list[Found]:
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
        # One reminder per window, whatever the number of questionnaires due in it.
        key = f"checkin:{window.key}"
        started = Response.objects.filter(
            patient_id=OuterRef("patient_id"), instrument_id=instrument_id, window=window.key
        )
        episodes = Episode.objects.filter(program=program, status=Episode.Status.ACTIVE).filter(
            ~Exists(started)
        )
        if _asked_by_text(program, schedule.instrument_code):
            # Those who answer by text get the question itself instead of a link.
            texted = Exists(
                ContactPreference.objects.filter(patient_id=OuterRef("patient_id")).filter(_TEXTING)
            )
            found.append(_texted(program, schedule.instrument_code, window.key, episodes, now))
            episodes = episodes.filter(~texted)
        rows = _due(episodes, Kind.CHECKIN_DUE, Value(key, output_field=CharField()))
        found.append(Found(program, Kind.CHECKIN_DUE, rows))
    return found


# Answers check-ins by text and may be texted.
_TEXTING = Q(
    daily_checkin_by_text=True,
    by_sms=True,
    sms_opted_in_at__isnull=False,
    sms_stopped_at__isnull=True,
) & ~Q(sms_phone="")


def _asked_by_text(program: Program, code: str) -> bool:
    if code == DAILY:
        return True
    if code not in MEASURES:
        return False
    setting = ProgramTextSetting.objects.filter(program=program).first()
    return setting is not None and setting.measures_by == ProgramTextSetting.MeasuresBy.TEXT


def _texted(
    program: Program, code: str, window_key: str, episodes: QuerySet[Any], now: dt.datetime
) -> Found:
    """The daily check-in's first question (its own words), or a neutral offer of a
    questionnaire, to those who answer by text: one per window."""
    kind = Kind.SMS_CHECKIN if code == DAILY else Kind.SMS_MEASURE
    texting = Exists(
        ContactPreference.objects.filter(patient_id=OuterRef("patient_id")).filter(_TEXTING)
    )
    rows = _due(
        episodes.filter(texting),
        kind,
        Value(f"{kind}:{window_key}", output_field=CharField()),
    )
    if kind == Kind.SMS_CHECKIN:
        items = [
            i
            for i in Instrument.objects.get(code=DAILY, is_current=True).spec.items_for(
                {"treats_substance_use": program.treats_substance_use}
            )
        ]
        body = (
            question(DAILY, items[0], number=1, of=len(items))
            + " "
            + gettext("Reply STOP to stop texts.")
        )
    else:
        body = content.render(kind)
    for row in rows:  # texts only
        row["o_push"], row["o_email"] = False, ""
    return Found(program, kind, rows, body=body, offer=code if kind == Kind.SMS_MEASURE else "")


def _sessions(program: Program, now: dt.datetime) -> list[Found]:
    tz = program.tzinfo
    local = now.astimezone(tz)
    found: list[Found] = []
    base = Attendance.objects.filter(
        appointment__program=program,
        appointment__is_cancelled=False,
        status=Attendance.Status.SCHEDULED,
    )
    if local.time() >= SESSION_DAY_BEFORE_FROM:
        start = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        rows = _due(
            base.filter(
                appointment__starts_at__gte=start,
                appointment__starts_at__lt=start + dt.timedelta(days=1),
            ),  # (Attendance.starts_at: the appointment's start)
            Kind.SESSION_TOMORROW,
            _key("session_tomorrow:", "appointment_id"),
            "starts_at",
        )
        found.append(Found(program, Kind.SESSION_TOMORROW, rows))
    rows = _due(
        base.filter(appointment__starts_at__gt=now, appointment__starts_at__lte=now + SESSION_SOON),
        Kind.SESSION_SOON,
        _key("session_soon:", "appointment_id"),
        "starts_at",
    )
    found.append(Found(program, Kind.SESSION_SOON, rows))
    return found


def _homework(program: Program, now: dt.datetime) -> list[Found]:
    local = now.astimezone(program.tzinfo)
    if local.time() < HOMEWORK_FROM:
        return []
    tomorrow = local.date() + dt.timedelta(days=1)
    active = Episode.objects.filter(
        program=program, status=Episode.Status.ACTIVE, patient_id=OuterRef("patient_id")
    )
    rows = _due(
        Assignment.objects.filter(due_on=tomorrow)
        .exclude(status=Assignment.Status.DONE)
        .filter(Exists(active)),
        Kind.HOMEWORK_DUE,
        _key("homework:", "pk"),
    )
    return [Found(program, Kind.HOMEWORK_DUE, rows)]


def _messages(now: dt.datetime, programs: dict[int, Program]) -> list[Found]:
    """Unread care-team messages: few rows (threads written to in the last two days), so
    the key, which carries the message's time, is made in Python; known keys are dropped
    in one query before anything is rendered."""
    rows = list(
        Thread.objects.filter(
            kind=Thread.Kind.PATIENT,
            last_team_message_at__lte=now - MESSAGE_UNREAD_FOR,
            last_team_message_at__gt=now - dt.timedelta(days=2),
            patient__episodes__status=Episode.Status.ACTIVE,
        )
        .filter(Q(patient_read_at__isnull=True) | Q(patient_read_at__lt=F("last_team_message_at")))
        .filter(_reachable(Kind.CARE_TEAM_MESSAGE))
        .annotate(
            program_id=F("patient__episodes__program_id"),
            at=F("last_team_message_at"),
            o_sms_ok=_case(
                Q(**{_PREF + "by_sms": True, _PREF + "sms_opted_in_at__isnull": False})
                & Q(**{_PREF + "sms_stopped_at__isnull": True})
            ),
            o_email=_case(Q(**{_PREF + "by_email": True}), F("patient__user__email")),
            **{name: F(path) for name, path in _PREF_FIELDS.items() if path},
        )
        .values("patient_id", "pk", "at", "program_id", *_PREF_FIELDS)
    )
    for row in rows:
        row["dedupe_key"] = f"message:{row['pk']}:{row['at']:%Y%m%d%H%M%S}"
    known = set(
        OutboundMessage.objects.filter(
            patient_id__in={r["patient_id"] for r in rows},
            dedupe_key__in={r["dedupe_key"] for r in rows},
        ).values_list("patient_id", "dedupe_key")
    )
    by_program: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["program_id"] in programs and (row["patient_id"], row["dedupe_key"]) not in known:
            by_program[row["program_id"]].append(row)
    return [Found(programs[p], Kind.CARE_TEAM_MESSAGE, r) for p, r in by_program.items()]


def _time(moment: dt.datetime, program: Program) -> str:
    return formats.time_format(moment.astimezone(program.tzinfo), "g:i A")


def _values(found: Found, row: dict[str, Any], now: dt.datetime) -> tuple[tuple[str, str], ...]:
    if found.kind in (Kind.SESSION_TOMORROW, Kind.SESSION_SOON):
        return (("time", _time(row["starts_at"], found.program)),)
    if found.kind == Kind.HOMEWORK_DUE:
        tomorrow = now.astimezone(found.program.tzinfo).date() + dt.timedelta(days=1)
        return (("day", formats.date_format(tomorrow, "l")),)
    return ()


class _Clock:
    """Quiet hours per time zone: the local time is computed once per zone, not per row."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.zones: dict[str, zoneinfo.ZoneInfo] = {}

    def quiet(self, row: dict[str, Any], program: Program) -> bool:
        name = row["o_tz"] or program.time_zone or "UTC"
        if name not in self.zones:
            try:
                self.zones[name] = zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                self.zones[name] = zoneinfo.ZoneInfo("UTC")
        return in_quiet_hours(
            quiet_from=row["o_quiet_from"],
            quiet_until=row["o_quiet_until"],
            tz=self.zones[name],
            now=self.now,
        )


_LINK = "\x00link\x00"


def _drafts(found: list[Found], now: dt.datetime) -> Iterator[Draft]:
    """Render only what is due, new and outside quiet hours, one at a time (the caller
    stores them a chunk at a time). A body is checked once per template and values (the
    link is left out of the check anyway), then the patient's own signed link is put in."""
    clock = _Clock(now)
    pushers = {r["patient_id"] for f in found for r in f.rows if r["o_push"]}
    pushes: dict[int, list[int]] = defaultdict(list)
    if pushers:
        for sub_id, pid in PushSubscription.objects.filter(patient_id__in=pushers).values_list(
            "pk", "patient_id"
        ):
            pushes[pid].append(sub_id)
    names: dict[int, list[str]] = {}
    templates: dict[tuple[int, str, tuple[tuple[str, str], ...]], tuple[str, str]] = {}
    prefix = content.link_prefix()
    seen: set[tuple[int, str]] = set()
    for f in found:
        for row in f.rows:
            pid = row["patient_id"]
            if (pid, row["dedupe_key"]) in seen or clock.quiet(row, f.program):
                continue
            seen.add((pid, row["dedupe_key"]))
            org = row["o_org"]
            values = _values(f, row, now)
            if f.body:
                if (org, f.kind, values) not in templates:
                    if org not in names:
                        names[org] = forbidden_names(org)
                    content.check_body(f.body, names=names[org])
                    templates[(org, f.kind, values)] = (f.body, "")
                if row["o_sms_ok"] and row["o_phone"]:
                    patient = Patient(pk=pid, organization_id=org)
                    yield Draft(
                        patient, Channel.SMS, f.kind, row["o_phone"], f.body, row["dedupe_key"]
                    )
                continue
            if (org, f.kind, values) not in templates:
                if org not in names:
                    names[org] = forbidden_names(org)
                sample = content.render(f.kind, link=_LINK, **dict(values))
                content.check_body(sample.replace(_LINK, "https://x.invalid/"), names=names[org])
                before, _, after = sample.partition(_LINK)
                templates[(org, f.kind, values)] = (before, after)
            before, after = templates[(org, f.kind, values)]
            body = before + content.make_link(patient_id=pid, kind=f.kind, prefix=prefix) + after
            patient = Patient(pk=pid, organization_id=org)
            targets: list[tuple[str, str]] = []
            if row["o_sms_ok"] and row["o_phone"]:
                targets.append((Channel.SMS, row["o_phone"]))
            if row["o_push"]:
                targets += [(Channel.PUSH, str(sub)) for sub in pushes.get(pid, [])]
            if row["o_email"]:
                targets.append((Channel.EMAIL, row["o_email"]))
            for channel, to in targets:
                key = row["dedupe_key"] if channel != Channel.PUSH else f"{row['dedupe_key']}:{to}"
                yield Draft(patient, channel, f.kind, to, body, key)


def reminders_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Find what is due and new, keep what each patient chose, queue it; returns counts
    by kind."""
    now = now or timezone.now()
    programs = {p.pk: p for p in Program.objects.filter(is_active=True)}
    found: list[Found] = []
    for program in programs.values():
        found += _checkins(program, now)
        found += _sessions(program, now)
        found += _homework(program, now)
    found += _messages(now, programs)
    # Stored and handed over a chunk at a time: each chunk is its own transaction (its
    # messages, its audit events) and is delivered after its commit, so a first sweep of
    # a window with 100,000 reminders holds no 100,000-row transaction, no statement of
    # 100,000 rows and no 100,000 message objects at once. A sweep stopped half-way
    # leaves whole chunks sent; the next one finds the rest (their keys are not stored).
    counts: dict[str, int] = defaultdict(int)
    offered: dict[str, set[int]] = defaultdict(set)
    keys = {(f.kind, r["dedupe_key"]): f.offer for f in found if f.offer for r in f.rows}
    for chunk in itertools.batched(_drafts([f for f in found if f.rows], now), CHUNK):
        for message in queue_many(chunk, now=now, purpose=Purpose.TREATMENT, checked=True):
            counts[message.kind] += 1
            offer = keys.get((message.kind, message.dedupe_key))
            if offer and message.patient_id is not None:
                offered[offer].add(message.patient_id)
    for code, patient_ids in offered.items():  # the reply starts it (conversation.py)
        ContactPreference.objects.filter(patient_id__in=patient_ids).update(text_offer=code)
    return dict(counts)
