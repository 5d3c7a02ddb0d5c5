"""Urgent work on every staff page of the people responsible (tether/staff/duty.py)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tether.crisis import services
from tether.crisis.models import UrgentContactRequest
from tether.flags.models import Flag, Severity
from tether.flags.testing import add_response
from tether.testing.cast import make_patient

DASHBOARD = reverse("staff:dashboard")
NOTIFICATIONS = reverse("notifications:list")
NY = zoneinfo.ZoneInfo("America/New_York")
# A Wednesday at 11:00 and 22:00 in the program's time zone: in and after office hours.
OFFICE = dt.datetime(2026, 11, 25, 11, 0, tzinfo=NY)
NIGHT = dt.datetime(2026, 11, 25, 22, 0, tzinfo=NY)


def _raise(user, *, now=None) -> UrgentContactRequest:
    return services.urgent_contact_raise(
        patient=user.patient, source=UrgentContactRequest.Source.PATIENT_BUTTON, now=now
    )


def _high_flag(user, *, hours_ago: float = 1) -> Flag:
    patient = user.patient
    return Flag.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        episode=patient.episodes.get(),
        kind=Flag.Kind.SAFETY,
        severity=Severity.HIGH,
        reason=Flag.Reason.PHQ9_ITEM9,
        source_type="checkins.response",
        source_id=patient.pk * 1000 + int(hours_ago),
        raised_at=timezone.now() - dt.timedelta(hours=hours_ago),
    )


def test_it_shows_the_care_team_a_waiting_request_with_its_escalation_time(cast, client_as):
    urgent = _raise(cast.patient)
    at = timezone.localtime(urgent.escalate_at, NY).strftime("%-I:%M %p")
    client = client_as(cast.assigned_clinician)
    for url in (DASHBOARD, NOTIFICATIONS):
        body = client.get(url).content.decode()
        assert "1 urgent request waiting for you" in body
        assert f"escalates at {at}" in body
        assert reverse("crisis:staff_request", args=[urgent.pk]) in body
        assert '<span class="visually-hidden"> waiting</span>' in body  # the count in the nav


def test_it_shows_nothing_to_staff_who_are_not_responsible(cast, client_as):
    _raise(cast.patient, now=OFFICE)  # with the care team, in office hours
    for user in (cast.unassigned_clinician, cast.on_call, cast.front_desk, cast.clinical_lead):
        body = client_as(user).get(DASHBOARD).content.decode()
        assert "urgent request waiting" not in body, user.username


def test_after_hours_it_is_on_calls_and_after_escalation_the_leads(cast, client_as):
    urgent = _raise(cast.patient, now=NIGHT)
    assert "1 urgent request waiting" in client_as(cast.on_call).get(DASHBOARD).content.decode()
    assert (
        "urgent request waiting"
        not in client_as(cast.clinical_lead).get(DASHBOARD).content.decode()
    )
    assert urgent.escalate_at is not None
    services.urgent_contact_escalate_due(now=urgent.escalate_at + dt.timedelta(minutes=1))
    lead_page = client_as(cast.clinical_lead).get(DASHBOARD).content.decode()
    assert "1 urgent request waiting for you" in lead_page
    # On-call was told first and the request is still waiting: still on their pages.
    assert "1 urgent request waiting" in client_as(cast.on_call).get(DASHBOARD).content.decode()
    services.urgent_contact_acknowledge(request=urgent, user=cast.clinical_lead)
    assert (
        "urgent request waiting"
        not in client_as(cast.clinical_lead).get(DASHBOARD).content.decode()
    )


def test_it_counts_unacknowledged_high_flags_and_the_overdue_ones(cast, client_as, settings):
    settings.TETHER_HIGH_FLAG_ACK_HOURS = 24
    _high_flag(cast.patient, hours_ago=1)
    _high_flag(cast.patient, hours_ago=30)
    body = client_as(cast.assigned_clinician).get(DASHBOARD).content.decode()
    assert "2 high flags not acknowledged" in body
    assert "1 has waited more than 24 hours." in body
    assert '2 high<span class="visually-hidden"> flags not acknowledged' in body
    lead = client_as(cast.clinical_lead).get(DASHBOARD).content.decode()
    assert "2 high flags not acknowledged" in lead
    assert "high flag" not in client_as(cast.unassigned_clinician).get(DASHBOARD).content.decode()
    assert "high flag" not in client_as(cast.front_desk).get(DASHBOARD).content.decode()


def test_patient_pages_carry_no_staff_banner(cast, client_as):
    _raise(cast.patient)
    body = client_as(cast.patient).get(reverse("portal:home")).content.decode()
    assert "waiting for you" not in body


def test_it_costs_the_same_queries_with_one_or_many_waiting(cast, client_as):
    client = client_as(cast.assigned_clinician)
    _raise(cast.patient)
    _high_flag(cast.patient)
    client.get(NOTIFICATIONS)
    with CaptureQueriesContext(connection) as few:
        assert client.get(NOTIFICATIONS).status_code == 200
    for index in range(6):
        user = make_patient(
            cast.organization,
            cast.iop,
            f"p{index}",
            first_name="P",
            last_name=f"Q{index}",
            clinician=cast.assigned_clinician,
        )
        _raise(user)
        _high_flag(user)
        add_response(user.patient, "phq9", timezone.now(), total=20)
    with CaptureQueriesContext(connection) as many:
        body = client.get(NOTIFICATIONS).content.decode()
    assert "7 urgent requests waiting for you" in body
    assert len(many) == len(few)
