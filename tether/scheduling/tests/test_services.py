"""The schedule's services: groups laid out without double-booking or the past,
rosters that never rewrite the past, changes and cancellations, attendance marks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tether.organizations.models import ProgramClosure
from tether.patients.models import CareTeamMember
from tether.privacy.models import AuditEvent
from tether.scheduling import services
from tether.scheduling.models import Appointment, Attendance, GroupSeries, RosterEntry
from tether.scheduling.tests.conftest import current_meeting

pytestmark = pytest.mark.django_db


def _next_monday(cast: Any) -> Any:
    today = timezone.now().astimezone(cast.iop.tzinfo).date()
    return today + dt.timedelta(days=7 - today.weekday())


def _series(cast: Any, **overrides: Any) -> Any:
    monday = _next_monday(cast)
    args = {
        "program": cast.iop,
        "title": "Evening DBT skills",
        "weekdays": "024",
        "starts_at_time": dt.time(18, 0),
        "minutes": 180,
        "first_day": monday,
        "last_day": monday + dt.timedelta(days=13),
        "facilitator": cast.assigned_clinician.staff_member,
        "location": "Room 2",
        "video_url": "",
        "user": cast.front_desk,
    }
    args.update(overrides)
    return services.series_create(**args)


def test_it_lays_out_a_recurring_group_on_its_days_in_program_time_without_closed_days(cast):
    monday = _next_monday(cast)
    ProgramClosure.objects.create(
        organization=cast.organization, program=cast.iop, date=monday + dt.timedelta(days=2)
    )
    series = _series(cast)
    starts = [a.starts_at.astimezone(cast.iop.tzinfo) for a in series.occurrences.all()]
    # Mon, Fri; Mon, Wed, Fri (the first Wednesday is closed).
    assert [s.date() - monday for s in starts] == [dt.timedelta(days=d) for d in (0, 4, 7, 9, 11)]
    assert {s.time() for s in starts} == {dt.time(18, 0)}
    event = AuditEvent.objects.get(object_type="scheduling.groupseries")
    assert (event.actor_id, event.action, event.outcome) == (
        cast.front_desk.pk,
        "create",
        "allowed",
    )


def test_a_double_booked_facilitator_is_refused_with_the_day_and_nothing_is_saved(cast):
    _series(cast, location="Room 1")
    with pytest.raises(services.ScheduleError) as refused:
        _series(cast, title="Another group", location="Room 9", weekdays="4")
    assert "Dana Staff already runs “Evening DBT skills” then." in refused.value.problems[0]
    assert GroupSeries.objects.count() == 1
    assert Appointment.objects.count() == 6  # Mon, Wed, Fri for two weeks


def test_a_double_booked_room_is_refused(cast):
    _series(cast)
    with pytest.raises(services.ScheduleError) as refused:
        _series(cast, facilitator=cast.unassigned_clinician.staff_member, location="room 2")
    assert "the room Room 2 is already booked" in refused.value.problems[0]
    assert GroupSeries.objects.count() == 1


def test_a_group_starting_in_the_past_is_refused(cast):
    today = timezone.now().astimezone(cast.iop.tzinfo).date()
    with pytest.raises(services.ScheduleError) as refused:
        _series(cast, first_day=today - dt.timedelta(days=3), weekdays="0123456")
    assert "has already passed" in refused.value.problems[0]
    assert not Appointment.objects.exists()


def test_a_last_day_before_the_first_is_refused(cast):
    monday = _next_monday(cast)
    with pytest.raises(services.ScheduleError) as refused:
        _series(cast, last_day=monday - dt.timedelta(days=1))
    assert refused.value.problems == ["The last day is before the first day."]


def test_the_roster_changes_only_meetings_to_come_and_the_facilitator_joins_the_team(cast, group):
    other = cast.other_patient.patient
    assert not CareTeamMember.objects.filter(
        episode__patient=other, staff_member=cast.assigned_clinician.staff_member
    ).exists()
    services.roster_add(series=group, patient=other, user=cast.front_desk)
    future = group.occurrences.filter(starts_at__gt=timezone.now()).count()
    assert Attendance.objects.filter(patient=other).count() == future
    assert CareTeamMember.objects.filter(
        episode__patient=other,
        staff_member=cast.assigned_clinician.staff_member,
        role="group_facilitator",
    ).exists()
    with pytest.raises(services.ScheduleError, match="already on this roster"):
        services.roster_add(series=group, patient=other, user=cast.front_desk)

    # Maria has been on it a week; her past attendance stays when she leaves.
    maria = cast.patient.patient
    past = Attendance.objects.filter(patient=maria, appointment__starts_at__lte=timezone.now())
    past.update(status="attended")
    kept = past.count()
    entry = RosterEntry.objects.get(series=group, patient=maria)
    services.roster_remove(entry=entry, user=cast.front_desk)
    assert Attendance.objects.filter(patient=maria).count() == kept > 0
    assert AuditEvent.objects.filter(
        object_type="scheduling.rosterentry", action="update", patient_id=maria.pk
    ).exists()


def test_a_patient_outside_the_program_cannot_join_its_group(cast, group):
    with pytest.raises(services.ScheduleError, match="is not admitted to Adult IOP"):
        services.roster_add(series=group, patient=cast.adolescent.patient, user=cast.front_desk)


def test_a_past_session_is_never_rewritten(cast, group):
    meeting = current_meeting(group)
    with pytest.raises(services.ScheduleError, match="already started"):
        services.session_cancel(appointment=meeting, reason="other", user=cast.front_desk)
    with pytest.raises(services.ScheduleError, match="already started"):
        services.session_change(
            appointment=meeting,
            starts_at=timezone.now() + dt.timedelta(days=30),
            minutes=60,
            location="",
            video_url="",
            user=cast.front_desk,
        )
    meeting.refresh_from_db()
    assert not meeting.is_cancelled and meeting.changed_at is None


def test_booking_an_individual_session_checks_the_clinician_and_the_past(cast):
    start = timezone.now() + dt.timedelta(days=2)
    appointment = services.session_book(
        program=cast.iop,
        patient=cast.patient.patient,
        kind="individual",
        starts_at=start,
        minutes=50,
        clinician=cast.assigned_clinician.staff_member,
        location="Office 4",
        video_url="",
        user=cast.front_desk,
    )
    assert Attendance.objects.get(appointment=appointment).patient == cast.patient.patient
    with pytest.raises(services.ScheduleError, match="already runs"):
        services.session_book(
            program=cast.iop,
            patient=cast.other_patient.patient,
            kind="family",
            starts_at=start + dt.timedelta(minutes=30),
            minutes=50,
            clinician=cast.assigned_clinician.staff_member,
            location="Office 5",
            video_url="",
            user=cast.front_desk,
        )
    with pytest.raises(services.ScheduleError, match="already passed"):
        services.session_book(
            program=cast.iop,
            patient=cast.other_patient.patient,
            kind="individual",
            starts_at=timezone.now() - dt.timedelta(hours=1),
            minutes=50,
            clinician=cast.unassigned_clinician.staff_member,
            location="Office 5",
            video_url="",
            user=cast.front_desk,
        )


def test_a_mark_for_someone_not_on_the_roster_saves_nothing(cast, group):
    meeting = current_meeting(group)
    with pytest.raises(services.ScheduleError, match="not on this session's roster"):
        services.attendance_take(
            appointment=meeting,
            marks={
                cast.patient.patient.pk: services.Mark("late"),
                cast.other_patient.patient.pk: services.Mark("absent"),
            },
            allowed_patient_ids=[cast.patient.patient.pk],
            staff=cast.assigned_clinician.staff_member,
            user=cast.assigned_clinician,
        )
    assert Attendance.objects.get(appointment=meeting).status == "scheduled"


def test_attendance_cannot_be_taken_for_a_session_far_ahead(cast, group):
    later = group.occurrences.filter(starts_at__gt=timezone.now() + dt.timedelta(hours=2)).first()
    with pytest.raises(services.ScheduleError, match="opens 30 minutes before"):
        services.attendance_take(
            appointment=later,
            marks={cast.patient.patient.pk: services.Mark("attended")},
            allowed_patient_ids=[cast.patient.patient.pk],
            staff=cast.assigned_clinician.staff_member,
            user=cast.assigned_clinician,
        )


def test_a_reason_belongs_to_an_absence_only(cast, group):
    meeting = current_meeting(group)
    with pytest.raises(services.ScheduleError, match="a reason is only for an absence"):
        services.attendance_take(
            appointment=meeting,
            marks={cast.patient.patient.pk: services.Mark("late", "illness")},
            allowed_patient_ids=[cast.patient.patient.pk],
            staff=cast.assigned_clinician.staff_member,
            user=cast.assigned_clinician,
        )
