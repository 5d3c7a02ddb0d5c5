from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest

from tether.crisis import services
from tether.crisis.models import Level, UrgentContactEvent, UrgentContactRequest
from tether.crisis.selectors import crisis_pathway_use_count, crisis_pathway_use_counts
from tether.notifications.models import Notification
from tether.organizations.models import StaffMember
from tether.privacy.models import AuditEvent

NY = zoneinfo.ZoneInfo("America/New_York")
# Wednesday 25 November 2026.
NIGHT = dt.datetime(2026, 11, 25, 22, 0, tzinfo=NY)
MORNING = dt.datetime(2026, 11, 25, 10, 0, tzinfo=NY)


def _notified(user: Any, kind: str | None = None) -> int:
    rows = Notification.objects.filter(recipient=user)
    if kind:
        rows = rows.filter(kind=kind)
    return rows.count()


def test_it_sends_a_request_to_the_care_team_in_office_hours(cast):
    urgent = services.urgent_contact_raise(
        patient=cast.patient.patient, source="patient_button", now=MORNING
    )
    assert urgent.level == Level.CARE_TEAM
    assert not urgent.after_hours
    assert _notified(cast.assigned_clinician, Notification.Kind.URGENT_REQUEST) == 1
    assert _notified(cast.on_call) == 0
    assert urgent.escalate_at == MORNING + dt.timedelta(minutes=15)


def test_it_sends_a_request_to_on_call_after_hours(cast):
    urgent = services.urgent_contact_raise(
        patient=cast.patient.patient, source="patient_button", now=NIGHT
    )
    assert urgent.level == Level.ON_CALL
    assert urgent.after_hours
    assert _notified(cast.on_call, Notification.Kind.URGENT_REQUEST) == 1
    assert _notified(cast.assigned_clinician) == 0


def test_it_escalates_to_the_lead_then_the_escalation_contact(cast):
    program = cast.iop
    program.escalation_contact = cast.program_admin.staff_member
    program.escalation_minutes = 10
    program.save()
    urgent = services.urgent_contact_raise(
        patient=cast.patient.patient, source="checkin", now=NIGHT
    )

    assert services.urgent_contact_escalate_due(now=NIGHT + dt.timedelta(minutes=9)) == 0
    assert services.urgent_contact_escalate_due(now=NIGHT + dt.timedelta(minutes=10)) == 1
    urgent.refresh_from_db()
    assert urgent.level == Level.CLINICAL_LEAD
    assert _notified(cast.clinical_lead, Notification.Kind.URGENT_ESCALATED) == 1

    # The sweep running again in the same window changes nothing.
    assert services.urgent_contact_escalate_due(now=NIGHT + dt.timedelta(minutes=11)) == 0
    assert services.urgent_contact_escalate_due(now=NIGHT + dt.timedelta(minutes=20)) == 1
    urgent.refresh_from_db()
    assert urgent.level == Level.ESCALATION_CONTACT
    assert urgent.escalate_at is None
    assert _notified(cast.program_admin, Notification.Kind.URGENT_ESCALATED) == 1
    # The end of the chain: nothing further.
    assert services.urgent_contact_escalate_due(now=NIGHT + dt.timedelta(hours=5)) == 0
    kinds = list(urgent.events.values_list("kind", "level"))
    assert kinds == [
        ("raised", ""),
        ("routed", "on_call"),
        ("escalated", "clinical_lead"),
        ("escalated", "escalation_contact"),
    ]


def test_it_stops_the_clock_when_acknowledged_and_closes_with_documentation(cast):
    urgent = services.urgent_contact_raise(
        patient=cast.patient.patient, source="message", now=NIGHT
    )
    services.urgent_contact_acknowledge(
        request=urgent, user=cast.on_call, now=NIGHT + dt.timedelta(minutes=5)
    )
    assert services.urgent_contact_escalate_due(now=NIGHT + dt.timedelta(hours=1)) == 0
    closed = services.urgent_contact_close(
        request=urgent,
        user=cast.on_call,
        contact_method="phone",
        outcome="safe_plan",
        safety_plan_reviewed=True,
        next_step="Same-day session tomorrow 9 AM.",
        now=NIGHT + dt.timedelta(minutes=25),
    )
    closed.refresh_from_db()
    assert closed.status == UrgentContactRequest.Status.CLOSED
    assert closed.next_step == "Same-day session tomorrow 9 AM."
    assert closed.acknowledged_by == cast.on_call
    assert _notified(cast.clinical_lead) == 0
    # Audited with ids only: create, acknowledge, close.
    events = AuditEvent.objects.filter(object_type="crisis.urgentcontactrequest")
    assert events.count() == 3
    assert set(events.values_list("object_id", flat=True)) == {str(urgent.pk)}


def test_it_adds_a_repeated_call_to_the_open_request(cast):
    first = services.urgent_contact_raise(
        patient=cast.patient.patient, source="patient_button", now=NIGHT
    )
    second = services.urgent_contact_raise(
        patient=cast.patient.patient,
        source="message_urgent",
        now=NIGHT + dt.timedelta(minutes=2),
    )
    # Raised by the system (crisis language found in a message): on the request, but not
    # the patient asking, so not counted as crisis pathway use.
    services.urgent_contact_raise(
        patient=cast.patient.patient, source="message", now=NIGHT + dt.timedelta(minutes=3)
    )
    assert first.pk == second.pk
    assert UrgentContactRequest.objects.count() == 1
    assert _notified(cast.on_call) == 1  # not alerted twice
    assert crisis_pathway_use_count(patient_id=cast.patient.patient.pk) == 2
    assert crisis_pathway_use_counts(
        patient_ids=[cast.patient.patient.pk, cast.other_patient.patient.pk]
    ) == {cast.patient.patient.pk: 2, cast.other_patient.patient.pk: 0}


def test_it_skips_a_level_with_nobody_on_it(cast):
    StaffMember.objects.filter(role=StaffMember.Role.ON_CALL).update(is_active=False)
    urgent = services.urgent_contact_raise(
        patient=cast.patient.patient, source="patient_button", now=NIGHT
    )
    assert urgent.level == Level.CLINICAL_LEAD
    assert _notified(cast.clinical_lead) == 1


def test_it_closes_an_unacknowledged_request_in_one_step(cast):
    urgent = services.urgent_contact_raise(
        patient=cast.patient.patient, source="patient_button", now=MORNING
    )
    services.urgent_contact_close(
        request=urgent,
        user=cast.assigned_clinician,
        contact_method="phone",
        outcome="same_day_session",
        safety_plan_reviewed=False,
        next_step="Seen at 2 PM.",
        now=MORNING + dt.timedelta(minutes=3),
    )
    assert list(urgent.events.values_list("kind", flat=True)) == [
        "raised",
        "routed",
        "acknowledged",
        "closed",
    ]


def test_it_tells_the_patient_when_to_expect_contact(cast):
    urgent = services.urgent_contact_raise(
        patient=cast.patient.patient, source="patient_button", now=NIGHT
    )
    assert services.expected_contact_by(urgent) == NIGHT + dt.timedelta(minutes=45)


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        (dt.datetime(2026, 11, 25, 8, 59, tzinfo=NY), False),
        (dt.datetime(2026, 11, 25, 9, 0, tzinfo=NY), True),
        (dt.datetime(2026, 11, 25, 16, 59, tzinfo=NY), True),
        (dt.datetime(2026, 11, 25, 17, 0, tzinfo=NY), False),
        (dt.datetime(2026, 11, 28, 12, 0, tzinfo=NY), False),  # Saturday
    ],
)
def test_it_knows_office_hours_in_the_program_time_zone(cast, moment, open_):
    assert cast.iop.is_office_hours(moment.astimezone(dt.UTC)) is open_


def test_it_finds_the_next_office_opening(cast):
    friday_night = dt.datetime(2026, 11, 27, 20, 0, tzinfo=NY)
    assert cast.iop.next_office_opening(friday_night) == dt.datetime(2026, 11, 30, 9, 0, tzinfo=NY)


def test_it_records_each_step_as_an_event(cast):
    services.urgent_contact_raise(patient=cast.patient.patient, source="patient_button", now=NIGHT)
    assert UrgentContactEvent.objects.filter(kind="routed", notified_count=1).exists()
