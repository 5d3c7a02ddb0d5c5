"""Writes to the schedule: recurring groups and their rosters, individual and family
sessions, changes and cancellations, attendance.

Every write runs in one transaction with its audit event (ids and codes only). A write
that would double-book a room or a clinician, start in the past or reach a patient who
is not on the roster raises ``ScheduleError`` with one message per problem and saves
nothing.

Past sessions are never rewritten: changing or cancelling refuses a session that has
started, and changing a roster only adds or removes attendance rows of sessions still
to come.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from tether.flags.services import evaluate_soon
from tether.organizations.models import Program, ProgramClosure, StaffMember
from tether.patients.models import CareTeamMember, Episode, Patient
from tether.privacy import audit
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category
from tether.scheduling.models import Appointment, Attendance, GroupSeries, RosterEntry

if TYPE_CHECKING:
    from django.db.models import Model

    from tether.accounts.models import User

# A recurring group is laid out at most this far ahead; a longer one is made again later.
MAX_SERIES_DAYS = 182
# Attendance can be taken from this long before a session starts (people arrive early).
ATTENDANCE_OPENS_BEFORE = dt.timedelta(minutes=30)
# Marks that a flag rule reads: the patient's rules are evaluated at once.
_FLAG_MARKS = frozenset(
    {
        Attendance.Status.LATE,
        Attendance.Status.LEFT_EARLY,
        Attendance.Status.ABSENT,
        Attendance.Status.EXCUSED,
    }
)


class ScheduleError(ValueError):
    """One or more problems, each a sentence for the person who typed it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Mark:
    status: str
    absence_reason: str = ""


def _audit(
    *,
    user: User,
    action: Action,
    obj: Model,
    patient: Patient | None = None,
    purpose: Purpose = Purpose.OPERATIONS,
) -> None:
    audit.record(
        request=None,
        actor=user,
        patient=patient,
        action=action,
        category=Category.GENERAL,
        purpose=purpose,
        outcome=AuditEvent.Outcome.ALLOWED,
        obj=obj,
    )


def _when(moment: dt.datetime, program: Program) -> str:
    local = moment.astimezone(program.tzinfo)
    return f"{date_format(local.date(), 'DATE_FORMAT')} {date_format(local, 'TIME_FORMAT')}"


def _clashes(
    *,
    program: Program,
    slots: list[tuple[dt.datetime, dt.datetime]],
    clinician: StaffMember | None,
    location: str,
    exclude_ids: Iterable[int] = (),
) -> list[str]:
    """A sentence for each slot that double-books the clinician or the room."""
    if not slots or (clinician is None and not location.strip()):
        return []
    who = Q()
    if clinician is not None:
        who |= Q(clinician=clinician)
    if location.strip():
        who |= Q(location__iexact=location.strip())
    taken = list(
        Appointment.objects.filter(
            who,
            organization_id=program.organization_id,
            is_cancelled=False,
            starts_at__lt=max(end for _start, end in slots),
            ends_at__gt=min(start for start, _end in slots),
        )
        .exclude(pk__in=list(exclude_ids))
        .values("starts_at", "ends_at", "clinician_id", "location", "title")
    )
    problems = []
    for start, end in slots:
        for other in taken:
            if other["starts_at"] < end and other["ends_at"] > start:
                if clinician is not None and other["clinician_id"] == clinician.pk:
                    problems.append(
                        _("%(when)s: %(name)s already runs “%(title)s” then.")
                        % {
                            "when": _when(start, program),
                            "name": clinician.user.get_full_name(),
                            "title": other["title"],
                        }
                    )
                else:
                    problems.append(
                        _("%(when)s: the room %(room)s is already booked for “%(title)s”.")
                        % {
                            "when": _when(start, program),
                            "room": other["location"],
                            "title": other["title"],
                        }
                    )
                break
    return problems


def _patient_clashes(
    *,
    program: Program,
    patient: Patient,
    slots: list[tuple[dt.datetime, dt.datetime]],
    exclude_ids: Iterable[int] = (),
) -> list[str]:
    """A sentence for each slot at which the patient is already booked elsewhere."""
    if not slots:
        return []
    taken = list(
        Appointment.objects.filter(
            attendances__patient=patient,
            is_cancelled=False,
            starts_at__lt=max(end for _start, end in slots),
            ends_at__gt=min(start for start, _end in slots),
        )
        .exclude(pk__in=list(exclude_ids))
        .values("starts_at", "ends_at", "title")
    )
    problems = []
    for start, end in slots:
        other = next((o for o in taken if o["starts_at"] < end and o["ends_at"] > start), None)
        if other is not None:
            problems.append(
                _("%(when)s: %(name)s is already booked for “%(title)s” then.")
                % {
                    "when": _when(start, program),
                    "name": patient.display_name,
                    "title": other["title"],
                }
            )
    return problems


def _not_in_past(starts_at: dt.datetime, now: dt.datetime, program: Program) -> list[str]:
    if starts_at <= now:
        return [
            _("%(when)s has already passed: choose a time still to come.")
            % {"when": _when(starts_at, program)}
        ]
    return []


def series_occurrences(
    *,
    program: Program,
    weekdays: str,
    starts_at_time: dt.time,
    minutes: int,
    first_day: dt.date,
    last_day: dt.date,
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The (start, end) of each meeting on the program's clock, closed days left out."""
    closed = set(
        ProgramClosure.objects.filter(
            program=program, date__gte=first_day, date__lte=last_day
        ).values_list("date", flat=True)
    )
    days = {int(d) for d in weekdays}
    slots = []
    day = first_day
    while day <= last_day:
        if day.weekday() in days and day not in closed:
            start = dt.datetime.combine(day, starts_at_time, tzinfo=program.tzinfo)
            slots.append((start, start + dt.timedelta(minutes=minutes)))
        day += dt.timedelta(days=1)
    return slots


def series_create(
    *,
    program: Program,
    title: str,
    weekdays: str,
    starts_at_time: dt.time,
    minutes: int,
    first_day: dt.date,
    last_day: dt.date,
    facilitator: StaffMember,
    location: str,
    video_url: str,
    user: User,
    now: dt.datetime | None = None,
) -> GroupSeries:
    """A recurring group and every meeting of it, or ``ScheduleError`` and nothing."""
    now = now or timezone.now()
    problems: list[str] = []
    if last_day < first_day:
        problems.append(_("The last day is before the first day."))
    elif (last_day - first_day).days > MAX_SERIES_DAYS:
        problems.append(
            _("A group can be laid out at most %(days)d days ahead; choose an earlier last day.")
            % {"days": MAX_SERIES_DAYS}
        )
    if problems:
        raise ScheduleError(problems)
    slots = series_occurrences(
        program=program,
        weekdays=weekdays,
        starts_at_time=starts_at_time,
        minutes=minutes,
        first_day=first_day,
        last_day=last_day,
    )
    if not slots:
        raise ScheduleError([_("No meeting falls between those days on the days chosen.")])
    problems += _not_in_past(slots[0][0], now, program)
    problems += _clashes(program=program, slots=slots, clinician=facilitator, location=location)
    if problems:
        raise ScheduleError(problems)
    with transaction.atomic():
        series = GroupSeries.objects.create(
            organization_id=program.organization_id,
            program=program,
            title=title.strip(),
            weekdays=weekdays,
            starts_at_time=starts_at_time,
            minutes=minutes,
            first_day=first_day,
            last_day=last_day,
            facilitator=facilitator,
            location=location.strip(),
            video_url=video_url.strip(),
            created_by=user,
        )
        Appointment.objects.bulk_create(
            [
                Appointment(
                    organization_id=program.organization_id,
                    program=program,
                    kind=Appointment.Kind.GROUP,
                    title=series.title,
                    starts_at=start,
                    ends_at=end,
                    clinician=facilitator,
                    location=series.location,
                    video_url=series.video_url,
                    series=series,
                )
                for start, end in slots
            ]
        )
        _audit(user=user, action=Action.CREATE, obj=series)
    return series


def _active_episode(patient: Patient, program: Program) -> Episode:
    episode = Episode.objects.filter(
        patient=patient, program=program, status=Episode.Status.ACTIVE
    ).first()
    if episode is None:
        raise ScheduleError(
            [
                _("%(name)s is not admitted to %(program)s.")
                % {"name": patient.display_name, "program": program.name}
            ]
        )
    return episode


def roster_add(
    *, series: GroupSeries, patient: Patient, user: User, now: dt.datetime | None = None
) -> RosterEntry:
    """Put a patient on a group's roster: a place in every meeting still to come. The
    facilitator joins the patient's care team as group facilitator (they take the
    attendance and run the group) unless already on it."""
    now = now or timezone.now()
    program = series.program
    episode = _active_episode(patient, program)
    if series.ended_at is not None:
        raise ScheduleError([_("This group has ended: nobody joins it any more.")])
    if RosterEntry.objects.filter(series=series, patient=patient, removed_at__isnull=True).exists():
        raise ScheduleError(
            [_("%(name)s is already on this roster.") % {"name": patient.display_name}]
        )
    upcoming = list(series.occurrences.filter(starts_at__gt=now, is_cancelled=False))
    problems = _patient_clashes(
        program=program,
        patient=patient,
        slots=[(a.starts_at, a.ends_at) for a in upcoming],
        exclude_ids=[a.pk for a in upcoming],
    )
    if problems:
        raise ScheduleError(problems)
    with transaction.atomic():
        entry = RosterEntry.objects.create(
            organization_id=series.organization_id,
            series=series,
            patient=patient,
            episode=episode,
            added_at=now,
        )
        already = set(
            Attendance.objects.filter(patient=patient, appointment__series=series).values_list(
                "appointment_id", flat=True
            )
        )
        Attendance.objects.bulk_create(
            [
                Attendance(
                    organization_id=series.organization_id,
                    appointment=appointment,
                    patient=patient,
                    episode=episode,
                )
                for appointment in upcoming
                if appointment.pk not in already
            ]
        )
        if not CareTeamMember.objects.filter(
            episode=episode, staff_member=series.facilitator, ended_on__isnull=True
        ).exists():
            member = CareTeamMember.objects.create(
                organization_id=series.organization_id,
                episode=episode,
                staff_member=series.facilitator,
                role=CareTeamMember.Role.GROUP_FACILITATOR,
                started_on=now.astimezone(program.tzinfo).date(),
            )
            _audit(
                user=user,
                action=Action.CREATE,
                obj=member,
                patient=patient,
                purpose=Purpose.TREATMENT,
            )
        _audit(user=user, action=Action.CREATE, obj=entry, patient=patient)
    return entry


def roster_remove(*, entry: RosterEntry, user: User, now: dt.datetime | None = None) -> None:
    """Take a patient off a roster from now on; their past attendance stays as it was."""
    now = now or timezone.now()
    with transaction.atomic():
        entry.removed_at = now
        entry.save(update_fields=["removed_at"])
        Attendance.objects.filter(
            patient_id=entry.patient_id,
            appointment__series_id=entry.series_id,
            appointment__starts_at__gt=now,
            status=Attendance.Status.SCHEDULED,
        ).delete()
        _audit(user=user, action=Action.UPDATE, obj=entry, patient=entry.patient)


def session_book(
    *,
    program: Program,
    patient: Patient,
    kind: str,
    starts_at: dt.datetime,
    minutes: int,
    clinician: StaffMember,
    location: str,
    video_url: str,
    user: User,
    now: dt.datetime | None = None,
) -> Appointment:
    """An individual or family session for one patient."""
    now = now or timezone.now()
    if kind not in (Appointment.Kind.INDIVIDUAL, Appointment.Kind.FAMILY):
        raise ScheduleError([_("Choose an individual or a family session.")])
    episode = _active_episode(patient, program)
    ends_at = starts_at + dt.timedelta(minutes=minutes)
    problems = _not_in_past(starts_at, now, program)
    problems += _clashes(
        program=program, slots=[(starts_at, ends_at)], clinician=clinician, location=location
    )
    problems += _patient_clashes(program=program, patient=patient, slots=[(starts_at, ends_at)])
    if problems:
        raise ScheduleError(problems)
    with transaction.atomic():
        appointment = Appointment.objects.create(
            organization_id=program.organization_id,
            program=program,
            kind=kind,
            title=str(Appointment.Kind(kind).label),
            starts_at=starts_at,
            ends_at=ends_at,
            clinician=clinician,
            location=location.strip(),
            video_url=video_url.strip(),
        )
        Attendance.objects.create(
            organization_id=program.organization_id,
            appointment=appointment,
            patient=patient,
            episode=episode,
        )
        _audit(
            user=user,
            action=Action.CREATE,
            obj=appointment,
            patient=patient,
            purpose=Purpose.TREATMENT,
        )
    return appointment


def _still_to_come(appointment: Appointment, now: dt.datetime) -> None:
    if appointment.is_cancelled:
        raise ScheduleError([_("This session is cancelled.")])
    if appointment.starts_at <= now:
        raise ScheduleError(
            [_("This session has already started; what happened then stays as it was.")]
        )


def session_change(
    *,
    appointment: Appointment,
    starts_at: dt.datetime,
    minutes: int,
    location: str,
    video_url: str,
    user: User,
    now: dt.datetime | None = None,
) -> Appointment:
    """Move one session still to come, or change its room or video link. Its patients
    see the change at once (their pages read the appointment), marked as changed."""
    now = now or timezone.now()
    _still_to_come(appointment, now)
    ends_at = starts_at + dt.timedelta(minutes=minutes)
    problems = _not_in_past(starts_at, now, appointment.program)
    problems += _clashes(
        program=appointment.program,
        slots=[(starts_at, ends_at)],
        clinician=appointment.clinician,
        location=location,
        exclude_ids=[appointment.pk],
    )
    for patient in Patient.objects.filter(attendances__appointment=appointment).order_by("pk"):
        problems += _patient_clashes(
            program=appointment.program,
            patient=patient,
            slots=[(starts_at, ends_at)],
            exclude_ids=[appointment.pk],
        )
    if problems:
        raise ScheduleError(problems)
    with transaction.atomic():
        appointment.starts_at = starts_at
        appointment.ends_at = ends_at
        appointment.location = location.strip()
        appointment.video_url = video_url.strip()
        appointment.changed_at = now
        appointment.save(
            update_fields=["starts_at", "ends_at", "location", "video_url", "changed_at"]
        )
        _audit(user=user, action=Action.UPDATE, obj=appointment)
    return appointment


def series_change_future(
    *,
    series: GroupSeries,
    facilitator: StaffMember,
    location: str,
    video_url: str,
    user: User,
    now: dt.datetime | None = None,
) -> int:
    """Change the facilitator, room or video link of every meeting still to come (the
    past ones keep what happened); patients see "changed" at once. A new facilitator
    joins the care team of everyone on the roster (they run the group and take its
    attendance). Returns how many meetings changed."""
    now = now or timezone.now()
    upcoming = list(series.occurrences.filter(starts_at__gt=now, is_cancelled=False))
    if not upcoming:
        raise ScheduleError([_("This group has no meetings still to come.")])
    problems = _clashes(
        program=series.program,
        slots=[(a.starts_at, a.ends_at) for a in upcoming],
        clinician=facilitator,
        location=location,
        exclude_ids=[a.pk for a in upcoming],
    )
    if problems:
        raise ScheduleError(problems)
    today = now.astimezone(series.program.tzinfo).date()
    with transaction.atomic():
        changed = Appointment.objects.filter(pk__in=[a.pk for a in upcoming]).update(
            clinician=facilitator,
            location=location.strip(),
            video_url=video_url.strip(),
            changed_at=now,
        )
        series.facilitator = facilitator
        series.location = location.strip()
        series.video_url = video_url.strip()
        series.save(update_fields=["facilitator", "location", "video_url"])
        _audit(user=user, action=Action.UPDATE, obj=series)
        on_team = set(
            CareTeamMember.objects.filter(
                episode__in=RosterEntry.objects.filter(
                    series=series, removed_at__isnull=True
                ).values("episode"),
                staff_member=facilitator,
                ended_on__isnull=True,
            ).values_list("episode_id", flat=True)
        )
        for entry in RosterEntry.objects.filter(
            series=series, removed_at__isnull=True
        ).select_related("patient"):
            if entry.episode_id in on_team:
                continue
            member = CareTeamMember.objects.create(
                organization_id=series.organization_id,
                episode_id=entry.episode_id,
                staff_member=facilitator,
                role=CareTeamMember.Role.GROUP_FACILITATOR,
                started_on=today,
            )
            _audit(
                user=user,
                action=Action.CREATE,
                obj=member,
                patient=entry.patient,
                purpose=Purpose.TREATMENT,
            )
    return changed


def series_end(*, series: GroupSeries, user: User, now: dt.datetime | None = None) -> int:
    """The group stops: every meeting still to come is cancelled ("the group has ended",
    which its patients see at once on their sessions page) and the roster closes. Past
    meetings and their attendance stay exactly as they were. Returns how many meetings
    were cancelled."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = GroupSeries.objects.select_for_update(no_key=True).get(pk=series.pk)
        if locked.ended_at is not None:
            raise ScheduleError([_("This group has already ended.")])
        cancelled = locked.occurrences.filter(starts_at__gt=now, is_cancelled=False).update(
            is_cancelled=True,
            cancelled_at=now,
            cancel_reason=Appointment.CancelReason.GROUP_ENDED,
        )
        locked.ended_at = now
        locked.save(update_fields=["ended_at"])
        _audit(user=user, action=Action.UPDATE, obj=locked)
        entries = list(
            RosterEntry.objects.filter(series=locked, removed_at__isnull=True).select_related(
                "patient"
            )
        )
        RosterEntry.objects.filter(pk__in=[e.pk for e in entries]).update(removed_at=now)
        for entry in entries:
            _audit(user=user, action=Action.UPDATE, obj=entry, patient=entry.patient)
    series.ended_at = locked.ended_at
    return cancelled


def session_cancel(
    *, appointment: Appointment, reason: str, user: User, now: dt.datetime | None = None
) -> Appointment:
    """Cancel one session still to come; its patients see "cancelled" at once."""
    now = now or timezone.now()
    _still_to_come(appointment, now)
    if reason not in Appointment.CancelReason.values:
        raise ScheduleError([_("Choose why the session is cancelled.")])
    with transaction.atomic():
        appointment.is_cancelled = True
        appointment.cancelled_at = now
        appointment.cancel_reason = reason
        appointment.save(update_fields=["is_cancelled", "cancelled_at", "cancel_reason"])
        _audit(user=user, action=Action.UPDATE, obj=appointment)
    return appointment


def attendance_take(
    *,
    appointment: Appointment,
    marks: Mapping[int, Mark],
    allowed_patient_ids: Iterable[int],
    staff: StaffMember,
    user: User,
    now: dt.datetime | None = None,
) -> list[Attendance]:
    """Record who came. ``marks`` maps patient ids to marks; every id must be on the
    session's roster and among ``allowed_patient_ids`` (the gate's answer), or nothing
    is saved. One audit event per patient whose mark was saved; late, left-early and
    absent marks have that patient's flag rules evaluated as soon as this commits."""
    now = now or timezone.now()
    if appointment.is_cancelled:
        raise ScheduleError([_("This session is cancelled: there is no attendance to take.")])
    if appointment.starts_at - ATTENDANCE_OPENS_BEFORE > now:
        raise ScheduleError([_("Attendance opens 30 minutes before the session starts.")])
    allowed = set(allowed_patient_ids)
    rows = {
        row.patient_id: row
        for row in Attendance.objects.filter(appointment=appointment).select_related("patient")
    }
    problems = []
    for patient_id, mark in marks.items():
        if patient_id not in rows or patient_id not in allowed:
            problems.append(
                _("Person #%(id)s is not on this session's roster: nothing was saved.")
                % {"id": patient_id}
            )
        elif mark.status not in Attendance.Status.values or mark.status == "scheduled":
            problems.append(
                _("%(name)s: choose present, late, left early or absent.")
                % {"name": rows[patient_id].patient.display_name}
            )
        elif mark.absence_reason and mark.status not in Attendance.ABSENT_STATUSES:
            problems.append(
                _("%(name)s: a reason is only for an absence.")
                % {"name": rows[patient_id].patient.display_name}
            )
        elif mark.absence_reason not in ("", *Attendance.AbsenceReason.values):
            problems.append(
                _("%(name)s: choose a reason from the list.")
                % {"name": rows[patient_id].patient.display_name}
            )
    if problems:
        raise ScheduleError(problems)
    saved = []
    with transaction.atomic():
        for patient_id, mark in sorted(marks.items()):
            row = rows[patient_id]
            changed = row.status != mark.status or row.absence_reason != mark.absence_reason
            if not changed and row.recorded_at is not None:
                continue
            row.status = mark.status
            row.absence_reason = mark.absence_reason
            row.recorded_by = staff
            row.recorded_at = now
            row.save(update_fields=["status", "absence_reason", "recorded_by", "recorded_at"])
            _audit(
                user=user,
                action=Action.UPDATE,
                obj=row,
                patient=row.patient,
                purpose=Purpose.TREATMENT,
            )
            if mark.status in _FLAG_MARKS:
                evaluate_soon(patient_id)
            saved.append(row)
    return saved
