"""A closure day (holiday, training day) is after hours all day, in the program's
time zone: urgent requests go straight to on-call, messages get the after-hours reply."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from tether.crisis import services
from tether.crisis.models import Level
from tether.messaging.models import Message
from tether.messaging.services import message_send_by_patient
from tether.notifications.models import Notification
from tether.organizations.models import ProgramClosure

NY = zoneinfo.ZoneInfo("America/New_York")
LA = zoneinfo.ZoneInfo("America/Los_Angeles")
THANKSGIVING = dt.date(2026, 11, 26)  # a Thursday
WEDNESDAY_MORNING = dt.datetime(2026, 11, 25, 10, 0, tzinfo=NY)
THANKSGIVING_MORNING = dt.datetime(2026, 11, 26, 10, 0, tzinfo=NY)


def _close(program, day: dt.date) -> ProgramClosure:
    return ProgramClosure.objects.create(
        organization=program.organization, program=program, date=day, reason="Holiday"
    )


def _urgent_notices(user) -> int:
    return Notification.objects.filter(
        recipient=user, kind=Notification.Kind.URGENT_REQUEST
    ).count()


def test_on_a_closure_day_an_urgent_request_goes_straight_to_on_call(cast):
    _close(cast.iop, THANKSGIVING)
    urgent = services.urgent_contact_raise(
        patient=cast.patient.patient, source="patient_button", now=THANKSGIVING_MORNING
    )
    assert urgent.level == Level.ON_CALL
    assert urgent.after_hours
    assert _urgent_notices(cast.on_call) == 1
    assert _urgent_notices(cast.assigned_clinician) == 0


def test_on_a_normal_day_it_still_goes_to_the_care_team(cast):
    _close(cast.iop, THANKSGIVING)
    urgent = services.urgent_contact_raise(
        patient=cast.patient.patient, source="patient_button", now=WEDNESDAY_MORNING
    )
    assert urgent.level == Level.CARE_TEAM
    assert _urgent_notices(cast.assigned_clinician) == 1
    assert _urgent_notices(cast.on_call) == 0


def test_another_programs_closure_changes_nothing(cast):
    _close(cast.adolescent_iop, THANKSGIVING)
    urgent = services.urgent_contact_raise(
        patient=cast.patient.patient, source="patient_button", now=THANKSGIVING_MORNING
    )
    assert urgent.level == Level.CARE_TEAM


def test_the_closure_day_is_the_programs_own_day(cast):
    """Thursday 4:30 PM in Los Angeles is already Friday in UTC: a Friday closure
    must not send Thursday's request to on-call, and a Thursday closure must."""
    program = cast.iop
    program.time_zone = "America/Los_Angeles"
    program.save(update_fields=["time_zone"])
    thursday_afternoon = dt.datetime(2026, 11, 26, 16, 30, tzinfo=LA)
    assert thursday_afternoon.astimezone(dt.UTC).date() == dt.date(2026, 11, 27)

    friday = _close(program, dt.date(2026, 11, 27))
    assert program.is_office_hours(thursday_afternoon.astimezone(dt.UTC))
    friday.delete()
    _close(program, THANKSGIVING)
    assert not program.is_office_hours(thursday_afternoon.astimezone(dt.UTC))
    urgent = services.urgent_contact_raise(
        patient=cast.patient.patient, source="patient_button", now=thursday_afternoon
    )
    assert urgent.level == Level.ON_CALL


def test_the_next_opening_skips_closure_days(cast):
    _close(cast.iop, THANKSGIVING)
    _close(cast.iop, dt.date(2026, 11, 27))
    wednesday_night = dt.datetime(2026, 11, 25, 20, 0, tzinfo=NY)
    assert cast.iop.next_office_opening(wednesday_night) == dt.datetime(
        2026, 11, 30, 9, 0, tzinfo=NY
    )


def test_a_message_on_a_closure_day_gets_the_after_hours_reply(cast):
    _close(cast.iop, THANKSGIVING)
    message_send_by_patient(
        patient=cast.patient.patient,
        author=cast.patient,
        body="Can we move Friday's group?",
        now=THANKSGIVING_MORNING,
    )
    assert Message.objects.filter(auto_reply=Message.AutoReply.AFTER_HOURS).count() == 1


def test_a_message_on_a_normal_morning_gets_no_automatic_reply(cast):
    _close(cast.iop, THANKSGIVING)
    message_send_by_patient(
        patient=cast.patient.patient,
        author=cast.patient,
        body="Can we move Friday's group?",
        now=WEDNESDAY_MORNING,
    )
    assert not Message.objects.filter(auto_reply=Message.AutoReply.AFTER_HOURS).exists()
