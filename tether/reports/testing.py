"""Builders for report tests and the benchmark: plain ORM rows, dated explicitly."""

from __future__ import annotations

import datetime as dt
import itertools
from unittest import mock

from django.utils import timezone

from tether.accounts.models import Invite, User
from tether.checkins.models import Instrument, Response
from tether.checkins.sync import sync_instruments
from tether.organizations.models import Program, StaffMember
from tether.patients.models import CareTeamMember, Episode, LevelOfCare, Patient
from tether.privacy import audit
from tether.privacy.gate import record_category_for
from tether.privacy.models import Purpose
from tether.privacy.policy import Action, Category, Relation
from tether.scheduling.models import Appointment, Attendance
from tether.staff.review import PRE_SESSION_REVIEW

_serial = itertools.count(1)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def admit(
    program: Program,
    clinician: StaffMember | None,
    admitted: dt.date,
    *,
    discharged: dt.date | None = None,
    reason: str = "",
    level: str = LevelOfCare.IOP,
    with_account: bool = True,
) -> Episode:
    n = next(_serial)
    user = None
    if with_account:
        user = User.objects.create_user(
            username=f"report.patient.{n}",
            kind=User.Kind.PATIENT,
            organization_id=program.organization_id,
        )
    patient = Patient.objects.create(
        organization_id=program.organization_id,
        user=user,
        first_name="Pat",
        last_name=f"Report{n}",
        date_of_birth=dt.date(1990, 1, 1),
        record_number=f"RPT-{n}",
    )
    episode = Episode.objects.create(
        organization_id=program.organization_id,
        patient=patient,
        program=program,
        level_of_care=level,
        admitted_on=admitted,
        status=Episode.Status.DISCHARGED if discharged else Episode.Status.ACTIVE,
        discharged_on=discharged,
        discharge_reason=reason,
    )
    if clinician is not None:
        CareTeamMember.objects.create(
            organization_id=program.organization_id,
            episode=episode,
            staff_member=clinician,
            role=CareTeamMember.Role.PRIMARY_THERAPIST,
            started_on=admitted,
        )
    return episode


def invite(episode: Episode, created: dt.datetime, used: dt.datetime | None = None) -> Invite:
    user = episode.patient.user
    if user is None:
        raise ValueError("this patient has no account to invite")
    return Invite.objects.create(
        organization_id=episode.organization_id,
        user=user,
        token_hash=f"{next(_serial):064d}",
        created_by=user,
        created_at=created,
        expires_at=created + dt.timedelta(days=7),
        used_at=used,
    )


def measure(episode: Episode, code: str, when: dt.datetime, total: int | None = None) -> Response:
    """A complete response (``daily`` windows are daily:<date>, as the app makes them)."""
    instrument = Instrument.objects.filter(code=code, is_current=True).first()
    if instrument is None:
        sync_instruments()
        instrument = Instrument.objects.get(code=code, is_current=True)
    window = (
        f"daily:{timezone.localdate(when).isoformat()}"
        if code == "daily"
        else f"test:{code}:{when.isoformat()}"
    )
    return Response.objects.create(
        organization_id=episode.organization_id,
        patient_id=episode.patient_id,
        episode=episode,
        instrument=instrument,
        window=window,
        record_category=record_category_for(episode, Category.SELF_REPORT),
        status=Response.Status.COMPLETE,
        started_at=when,
        expires_at=when + dt.timedelta(days=1),
        submitted_at=when,
        total=total,
    )


def session(
    episode: Episode,
    clinician: StaffMember,
    starts: dt.datetime,
    status: str = Attendance.Status.ATTENDED,
    kind: str = Appointment.Kind.INDIVIDUAL,
) -> Attendance:
    appointment = Appointment.objects.create(
        organization_id=episode.organization_id,
        program=episode.program,
        kind=kind,
        title="Session",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=1),
        clinician=clinician,
    )
    return Attendance.objects.create(
        organization_id=episode.organization_id,
        appointment=appointment,
        patient_id=episode.patient_id,
        episode=episode,
        status=status,
    )


def review_opened(episode: Episode, clinician: StaffMember, when: dt.datetime) -> None:
    event = audit.event_for(
        request=None,
        actor=clinician.user,
        patient=episode.patient,
        action=Action.VIEW,
        category=Category.SELF_REPORT,
        purpose=Purpose.TREATMENT,
        object_type=PRE_SESSION_REVIEW,
        relation=Relation.CARE_TEAM,
    )
    # The trail stamps its own time; a test moves the clock it reads.
    with mock.patch("tether.privacy.audit.timezone.now", return_value=when):
        audit.append_many([event])
