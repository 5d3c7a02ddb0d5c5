"""Bring in an existing schedule: individual and family sessions from a CSV file or an
iCalendar (.ics) export, checked row by row, saved all together or not at all.

Two readers turn a file into ``ProposedSession`` rows (``read_csv``, ``read_ics``; the
iCalendar one uses the ``icalendar`` library). One service, ``sessions_import``, checks
and saves them; the FHIR API's inbound ``Appointment`` (``tether.fhir.inbound``) builds
the same rows and calls it too, carrying the EHR's identifier (``external_system``,
``external_id``) and, for an update, the session it changes (``existing``: checked
against the schedule without itself, then changed in place).

CSV columns (a header row, UTF-8): ``record_number, date, start, minutes, kind,
clinician_email, room, video_link``; ``date`` as YYYY-MM-DD, ``start`` as HH:MM on the
program's clock, ``kind`` ``individual`` or ``family``.

iCalendar: one VEVENT per session; the patient's record number in the DESCRIPTION or
SUMMARY as ``MRN: <number>``; the clinician as the ORGANIZER's e-mail; DTSTART with a
TZID, in UTC, or floating (read on the program's clock); DTEND or DURATION; LOCATION as
the room; URL (or a conference link) as the video link. Repeating events (RRULE) and
all-day events are refused on their row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from tether.organizations.models import Program, StaffMember
from tether.patients.models import Episode, Patient
from tether.privacy import audit
from tether.privacy.models import Purpose
from tether.privacy.policy import Action, Category
from tether.scheduling.models import Appointment, Attendance

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from tether.accounts.models import User
    from tether.privacy.audit import SystemActor

MAX_ROWS = 5000
MAX_MINUTES = 360
CSV_COLUMNS = (
    "record_number",
    "date",
    "start",
    "minutes",
    "kind",
    "clinician_email",
    "room",
    "video_link",
)
_MRN = re.compile(r"MRN\s*[:#]?\s*([A-Za-z0-9._-]+)", re.IGNORECASE)
_KINDS = {
    "individual": Appointment.Kind.INDIVIDUAL,
    "family": Appointment.Kind.FAMILY,
}


@dataclass
class ProposedSession:
    """One row of a file (``line``: its line or event number), before it is checked."""

    line: int
    record_number: str = ""
    clinician_email: str = ""
    kind: str = Appointment.Kind.INDIVIDUAL
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    location: str = ""
    video_url: str = ""
    problems: list[str] = field(default_factory=list)
    # Another system's identifier for this session (FHIR inbound), stored with it.
    external_system: str = ""
    external_id: str = ""
    # An update: the session this row changes (FHIR inbound), instead of a new one.
    existing: Appointment | None = None
    # Filled in by the check.
    patient: Patient | None = None
    episode: Episode | None = None
    clinician: StaffMember | None = None
    # Set by the check when a problem is a clash with another booking.
    clashes: bool = False


@dataclass
class ImportResult:
    rows: list[ProposedSession]
    file_problem: str = ""
    saved: int = 0

    @property
    def has_problems(self) -> bool:
        return bool(self.file_problem) or any(row.problems for row in self.rows)

    @property
    def problem_rows(self) -> list[ProposedSession]:
        return [row for row in self.rows if row.problems]


class FileError(ValueError):
    """The file as a whole cannot be read."""


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileError(
            _(
                "This file is not UTF-8 text. Save it again as “CSV UTF-8” (or export the "
                "calendar again) and upload that."
            )
        ) from None


def read_csv(data: bytes, *, program: Program) -> list[ProposedSession]:
    text = _text(data)
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    missing = [name for name in CSV_COLUMNS[:6] if name not in header]
    if missing:
        raise FileError(
            _("The first row must name the columns; missing: %(names)s.")
            % {"names": ", ".join(missing)}
        )
    reader.fieldnames = header
    rows = []
    for number, raw in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            raise FileError(_("At most %(n)d rows in one file.") % {"n": MAX_ROWS})
        values = {k: (v or "").strip() for k, v in raw.items() if k is not None}
        row = ProposedSession(
            line=number,
            record_number=values.get("record_number", ""),
            clinician_email=values.get("clinician_email", "").lower(),
            location=values.get("room", ""),
            video_url=values.get("video_link", ""),
        )
        kind = values.get("kind", "").lower() or "individual"
        if kind not in _KINDS:
            row.problems.append(
                _("Kind must be “individual” or “family”, not “%(v)s”.") % {"v": kind}
            )
        else:
            row.kind = _KINDS[kind]
        try:
            day = dt.date.fromisoformat(values.get("date", ""))
        except ValueError:
            row.problems.append(
                _("“%(v)s” is not a date: write it as YYYY-MM-DD.") % {"v": values.get("date", "")}
            )
            day = None
        try:
            start = dt.time.fromisoformat(values.get("start", ""))
            if start.tzinfo is not None:
                raise ValueError
        except ValueError:
            row.problems.append(
                _("“%(v)s” is not a time: write it as HH:MM on the program's clock.")
                % {"v": values.get("start", "")}
            )
            start = None
        minutes = values.get("minutes", "")
        if not minutes.isdigit() or not 10 <= int(minutes) <= MAX_MINUTES:
            row.problems.append(
                _("Minutes must be a whole number from 10 to %(max)d.") % {"max": MAX_MINUTES}
            )
        elif day is not None and start is not None:
            starts_at = _existing(dt.datetime.combine(day, start, tzinfo=program.tzinfo), row)
            if starts_at is not None:
                row.starts_at = starts_at
                row.ends_at = starts_at + dt.timedelta(minutes=int(minutes))
        rows.append(row)
    return rows


def _existing(moment: dt.datetime, row: ProposedSession) -> dt.datetime | None:
    """``moment`` if its wall-clock time exists in its time zone; None, with the reason
    on the row, for a time the clocks skip when they go forward (02:30 on the spring
    change in most of the US): that session would silently move by an hour."""
    there = moment.astimezone(dt.UTC).astimezone(moment.tzinfo)
    if there.replace(tzinfo=None) != moment.replace(tzinfo=None):
        row.problems.append(
            _(
                "%(time)s does not exist on %(day)s in %(zone)s: the clocks go forward "
                "then. Choose another time."
            )
            % {
                "time": moment.strftime("%H:%M"),
                "day": moment.date().isoformat(),
                "zone": str(moment.tzinfo),
            }
        )
        return None
    return moment


def _when(value: Any, program: Program, row: ProposedSession, what: str) -> dt.datetime | None:
    if value is None:
        return None
    moment = value.dt
    if not isinstance(moment, dt.datetime):
        row.problems.append(_("An all-day event has no time: give the session a start time."))
        return None
    if moment.tzinfo is None:
        zone = value.params.get("TZID")
        if zone:
            row.problems.append(
                _("The %(what)s time names a time zone nobody knows: “%(zone)s”.")
                % {"what": what, "zone": zone}
            )
            return None
        # A floating time: the program's clock.
        return _existing(moment.replace(tzinfo=program.tzinfo), row)
    return _existing(moment, row)


def read_ics(data: bytes, *, program: Program) -> list[ProposedSession]:
    import icalendar

    text = _text(data)
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except ValueError:
        raise FileError(_("This is not an iCalendar (.ics) file.")) from None
    rows = []
    for number, event in enumerate(calendar.walk("VEVENT"), start=1):
        if number > MAX_ROWS:
            raise FileError(_("At most %(n)d events in one file.") % {"n": MAX_ROWS})
        row = ProposedSession(line=number)
        words = f"{event.get('DESCRIPTION', '')}\n{event.get('SUMMARY', '')}"
        found = _MRN.search(words)
        row.record_number = found.group(1) if found else ""
        organizer = str(event.get("ORGANIZER", ""))
        row.clinician_email = organizer.removeprefix("mailto:").removeprefix("MAILTO:").lower()
        row.location = str(event.get("LOCATION", "")).strip()
        row.video_url = str(event.get("URL", "") or event.get("CONFERENCE", "")).strip()
        row.kind = (
            Appointment.Kind.FAMILY
            if "family" in str(event.get("SUMMARY", "")).lower()
            else Appointment.Kind.INDIVIDUAL
        )
        if event.get("RRULE") is not None:
            row.problems.append(
                _("A repeating event is not imported: export its single sessions instead.")
            )
        try:
            row.starts_at = _when(event.get("DTSTART"), program, row, _("start"))
            if event.get("DTEND") is not None:
                row.ends_at = _when(event.get("DTEND"), program, row, _("end"))
            elif event.get("DURATION") is not None and row.starts_at is not None:
                row.ends_at = row.starts_at + event.get("DURATION").dt
        except (ValueError, TypeError):
            row.problems.append(_("The start or end of this event cannot be read."))
        if row.starts_at is None and not row.problems:
            row.problems.append(_("This event has no start."))
        rows.append(row)
    if not rows:
        raise FileError(_("This calendar holds no events."))
    return rows


def _check(
    rows: list[ProposedSession],
    *,
    program: Program,
    bookable: QuerySet[Patient],
    now: dt.datetime,
) -> None:
    """Fill in patient and clinician and add every problem, in a fixed number of queries."""
    numbers = {row.record_number for row in rows if row.record_number}
    episodes = {
        e.patient.record_number: e
        for e in Episode.objects.filter(
            program=program,
            status=Episode.Status.ACTIVE,
            patient__record_number__in=numbers,
            patient__in=bookable.values("pk"),
        ).select_related("patient")
    }
    emails = {row.clinician_email for row in rows if row.clinician_email}
    clinicians = {
        s.user.email.lower(): s
        for s in StaffMember.objects.filter(
            programs=program,
            is_active=True,
            role__in=StaffMember.CLINICAL_ROLES,
            user__email__in=emails,
        ).select_related("user")
    }
    for row in rows:
        episode = episodes.get(row.record_number)
        if not row.record_number:
            row.problems.append(_("No record number (MRN) on this row."))
        elif episode is None:
            row.problems.append(
                _("No patient of %(program)s with record number “%(mrn)s” that you may book.")
                % {"program": program.name, "mrn": row.record_number}
            )
        else:
            row.episode, row.patient = episode, episode.patient
        row.clinician = clinicians.get(row.clinician_email)
        if row.clinician is None:
            row.problems.append(
                _("No clinician of %(program)s with the e-mail “%(email)s”.")
                % {"program": program.name, "email": row.clinician_email}
            )
        if row.video_url and not row.video_url.startswith(("https://", "http://")):
            row.problems.append(_("The video link must start with https://."))
        if row.starts_at is not None and row.ends_at is not None:
            if row.ends_at <= row.starts_at:
                row.problems.append(_("The session ends before it starts."))
            elif row.ends_at - row.starts_at > dt.timedelta(minutes=MAX_MINUTES):
                row.problems.append(_("The session is longer than six hours: check the end."))
            if row.starts_at <= now:
                row.problems.append(_("This session is in the past."))
        elif row.starts_at is not None and not row.problems:
            row.problems.append(_("This session has no end."))
    _check_clashes(rows, program=program)


def _check_clashes(rows: list[ProposedSession], *, program: Program) -> None:
    """Two sessions at once for one clinician, one room or one patient, in the file or
    against the schedule: the later row names the clash."""
    timed = [r for r in rows if r.starts_at and r.ends_at and r.ends_at > r.starts_at]
    if not timed:
        return
    start = min(r.starts_at for r in timed if r.starts_at)
    end = max(r.ends_at for r in timed if r.ends_at)
    clinician_ids = {r.clinician.pk for r in timed if r.clinician}
    rooms = {r.location.lower() for r in timed if r.location}
    changed = [r.existing.pk for r in timed if r.existing is not None]
    booked: dict[tuple[str, str], list[tuple[dt.datetime, dt.datetime, str]]] = defaultdict(list)
    for a in (
        Appointment.objects.annotate(room=Lower("location"))
        .filter(
            Q(clinician_id__in=clinician_ids) | Q(room__in=rooms),
            organization_id=program.organization_id,
            is_cancelled=False,
            starts_at__lt=end,
            ends_at__gt=start,
        )
        .exclude(pk__in=changed)
        .values("starts_at", "ends_at", "clinician_id", "location", "title")
    ):
        if a["clinician_id"]:
            booked[("clinician", str(a["clinician_id"]))].append(
                (a["starts_at"], a["ends_at"], a["title"])
            )
        if a["location"]:
            booked[("room", a["location"].lower())].append(
                (a["starts_at"], a["ends_at"], a["title"])
            )
    patient_ids = {r.patient.pk for r in timed if r.patient}
    for b in (
        Attendance.objects.filter(
            patient_id__in=patient_ids,
            appointment__is_cancelled=False,
            appointment__starts_at__lt=end,
            appointment__ends_at__gt=start,
        )
        .exclude(appointment_id__in=changed)
        .values(
            "patient_id", "appointment__starts_at", "appointment__ends_at", "appointment__title"
        )
    ):
        booked[("patient", str(b["patient_id"]))].append(
            (b["appointment__starts_at"], b["appointment__ends_at"], b["appointment__title"])
        )
    for row in sorted(timed, key=lambda r: (r.starts_at, r.line)):
        assert row.starts_at is not None and row.ends_at is not None  # noqa: S101  # filtered above
        keys = []
        if row.clinician:
            keys.append(("clinician", str(row.clinician.pk)))
        if row.location:
            keys.append(("room", row.location.lower()))
        if row.patient:
            keys.append(("patient", str(row.patient.pk)))
        for key in keys:
            clash = next(
                (b for b in booked[key] if b[0] < row.ends_at and b[1] > row.starts_at), None
            )
            if clash is not None:
                row.clashes = True
                if key[0] == "clinician":
                    row.problems.append(
                        _("The clinician already has “%(title)s” at this time.")
                        % {"title": clash[2]}
                    )
                elif key[0] == "patient":
                    row.problems.append(
                        _("The patient is already booked for “%(title)s” at this time.")
                        % {"title": clash[2]}
                    )
                else:
                    row.problems.append(
                        _("The room is already booked for “%(title)s” at this time.")
                        % {"title": clash[2]}
                    )
            booked[key].append(
                (row.starts_at, row.ends_at, _("row %(n)d of this file") % {"n": row.line})
            )


def sessions_import(
    *,
    program: Program,
    rows: list[ProposedSession],
    bookable: QuerySet[Patient],
    user: User | SystemActor,
    save: bool,
    now: dt.datetime | None = None,
) -> ImportResult:
    """Check every row; with ``save`` and no problem anywhere, create every session and
    booking in one transaction, audited per patient (one event per session). With any
    problem nothing is saved. ``bookable``: the patients the gate lets this user book
    (``patients_visible_to(user, category=general, action=create)``; for a FHIR client,
    its program's patients). A row with ``existing`` changes that session instead."""
    now = now or timezone.now()
    _check(rows, program=program, bookable=bookable, now=now)
    result = ImportResult(rows=rows)
    if not save or result.has_problems:
        return result
    new = [row for row in rows if row.existing is None]
    changes = [row for row in rows if row.existing is not None]
    with transaction.atomic():
        appointments = Appointment.objects.bulk_create(
            [
                Appointment(
                    organization_id=program.organization_id,
                    program=program,
                    kind=row.kind,
                    title=str(Appointment.Kind(row.kind).label),
                    starts_at=row.starts_at,
                    ends_at=row.ends_at,
                    clinician=row.clinician,
                    location=row.location,
                    video_url=row.video_url,
                    external_system=row.external_system,
                    external_id=row.external_id,
                )
                for row in new
                if row.starts_at is not None and row.ends_at is not None  # checked
            ],
            batch_size=500,
        )
        Attendance.objects.bulk_create(
            [
                Attendance(
                    organization_id=program.organization_id,
                    appointment=appointment,
                    patient=row.patient,
                    episode=row.episode,
                )
                for appointment, row in zip(appointments, new, strict=True)
            ],
            batch_size=500,
        )
        for row in changes:
            _change(row, now=now)
        audit.record_many(
            request=None,
            actor=user,
            patients=[row.patient for row in new if row.patient is not None],
            action=Action.CREATE,
            category=Category.GENERAL,
            purpose=Purpose.TREATMENT,
            object_type="scheduling.appointment",
        )
        audit.record_many(
            request=None,
            actor=user,
            patients=[row.patient for row in changes if row.patient is not None],
            action=Action.UPDATE,
            category=Category.GENERAL,
            purpose=Purpose.TREATMENT,
            object_type="scheduling.appointment",
        )
    result.saved = len(appointments) + len(changes)
    return result


def _change(row: ProposedSession, *, now: dt.datetime) -> None:
    """Change a session in place (an update from another system); patients see it as
    changed when its time, room or link moved."""
    appointment = row.existing
    assert appointment is not None and row.starts_at and row.ends_at  # noqa: S101  # checked
    moved = (
        appointment.starts_at != row.starts_at
        or appointment.ends_at != row.ends_at
        or appointment.location != row.location
        or appointment.video_url != row.video_url
    )
    appointment.kind = row.kind
    appointment.title = str(Appointment.Kind(row.kind).label)
    appointment.starts_at, appointment.ends_at = row.starts_at, row.ends_at
    appointment.clinician = row.clinician
    appointment.location, appointment.video_url = row.location, row.video_url
    appointment.external_system = row.external_system or appointment.external_system
    appointment.external_id = row.external_id or appointment.external_id
    if moved:
        appointment.changed_at = now
    appointment.save()
