"""The on-call rota routes after-hours urgent requests: the clinician on shift gets it;
with no shift on (or no rota at all) every on-call clinician does, as before."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest

from tether.crisis import services
from tether.crisis.models import Level
from tether.notifications.models import Notification
from tether.organizations.models import OnCallShift

pytestmark = pytest.mark.django_db

NY = zoneinfo.ZoneInfo("America/New_York")
NIGHT = dt.datetime(2026, 11, 25, 22, 0, tzinfo=NY)  # a Wednesday, after hours


def _shift(cast: Any, user: Any, start: dt.datetime, hours: int = 12) -> OnCallShift:
    return OnCallShift.objects.create(
        organization=cast.organization,
        program=cast.iop,
        staff_member=user.staff_member,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=hours),
        created_by=cast.program_admin,
    )


def _notified(user: Any) -> int:
    return Notification.objects.filter(
        recipient=user, kind=Notification.Kind.URGENT_REQUEST
    ).count()


def test_the_clinician_on_shift_gets_the_after_hours_request(cast: Any) -> None:
    _shift(cast, cast.unassigned_clinician, NIGHT - dt.timedelta(hours=4))
    urgent = services.urgent_contact_raise(
        patient=cast.patient.patient, source="patient_button", now=NIGHT
    )
    assert urgent.level == Level.ON_CALL
    assert _notified(cast.unassigned_clinician) == 1
    assert _notified(cast.on_call) == 0


def test_with_no_shift_on_every_on_call_clinician_gets_it(cast: Any) -> None:
    _shift(cast, cast.unassigned_clinician, NIGHT + dt.timedelta(hours=1))  # not yet
    services.urgent_contact_raise(patient=cast.patient.patient, source="patient_button", now=NIGHT)
    assert _notified(cast.on_call) == 1
    assert _notified(cast.unassigned_clinician) == 0


def test_another_programs_rota_does_not_route_this_one(cast: Any) -> None:
    OnCallShift.objects.create(
        organization=cast.organization,
        program=cast.adolescent_iop,
        staff_member=cast.unassigned_clinician.staff_member,
        starts_at=NIGHT - dt.timedelta(hours=1),
        ends_at=NIGHT + dt.timedelta(hours=1),
        created_by=cast.program_admin,
    )
    services.urgent_contact_raise(patient=cast.patient.patient, source="patient_button", now=NIGHT)
    assert _notified(cast.on_call) == 1
    assert _notified(cast.unassigned_clinician) == 0
