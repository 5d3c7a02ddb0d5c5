"""One session: its bookings through the gate; change and cancel by schedulers and its
own clinician, never for a session that has started."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tether.scheduling.tests.conftest import current_meeting

pytestmark = pytest.mark.django_db


def _next(group: Any) -> Any:
    return group.occurrences.filter(starts_at__gt=timezone.now()).order_by("starts_at").first()


@pytest.mark.parametrize("persona", ("assigned_clinician", "front_desk", "clinical_lead"))
def test_it_shows_who_is_booked_to_the_right_people(cast, client_as, group, persona):
    url = reverse("scheduling:session_detail", args=[_next(group).pk])
    assert "Maria Garcia" in client_as(getattr(cast, persona)).get(url).content.decode()


@pytest.mark.parametrize("persona", ("privacy_officer", "other_org_clinician", "patient", "parent"))
def test_it_checks_access(cast, client_as, group, persona):
    url = reverse("scheduling:session_detail", args=[_next(group).pk])
    assert client_as(getattr(cast, persona)).get(url).status_code == 404


@pytest.mark.parametrize(
    "persona",
    (
        "unassigned_clinician",
        "on_call",
        "privacy_officer",
        "other_org_clinician",
        "patient",
        "parent",
    ),
)
def test_the_wrong_people_cannot_cancel_or_change(cast, client_as, group, persona):
    meeting = _next(group)
    url = reverse("scheduling:session_detail", args=[meeting.pk])
    client = client_as(getattr(cast, persona))
    assert client.post(url, {"action": "cancel", "reason": "other"}).status_code == 404
    meeting.refresh_from_db()
    assert not meeting.is_cancelled


def test_a_cancellation_is_seen_by_the_patient_at_once(cast, client_as, group):
    meeting = _next(group)
    url = reverse("scheduling:session_detail", args=[meeting.pk])
    response = client_as(cast.assigned_clinician).post(
        url, {"action": "cancel", "reason": "facilitator"}
    )
    assert response.status_code == 302
    body = client_as(cast.patient).get(reverse("scheduling:my_sessions")).content.decode()
    assert "Cancelled" in body
    assert "This session will not take place." in body


def test_a_change_keeps_what_was_typed_when_it_clashes(cast, client_as, group):
    meeting = _next(group)
    later = group.occurrences.filter(starts_at__gt=meeting.starts_at).order_by("starts_at").first()
    local = later.starts_at.astimezone(cast.iop.tzinfo)
    url = reverse("scheduling:session_detail", args=[meeting.pk])
    response = client_as(cast.front_desk).post(
        url,
        {
            "action": "change",
            "day": local.date().isoformat(),
            "starts_at_time": local.strftime("%H:%M"),
            "minutes": "90",
            "location": "Room 12",
            "video_url": "",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "already runs" in body
    assert 'value="Room 12"' in body


def test_a_started_session_offers_attendance_and_no_change(cast, client_as, group):
    url = reverse("scheduling:session_detail", args=[current_meeting(group).pk])
    body = client_as(cast.assigned_clinician).get(url).content.decode()
    assert "Take attendance" in body
    assert "Cancel the session" not in body
    response = client_as(cast.front_desk).post(url, {"action": "cancel", "reason": "other"})
    assert response.status_code == 400
    assert "already started" in response.content.decode()


def test_a_move_shows_the_patient_the_new_time_marked_changed(cast, client_as, group):
    meeting = _next(group)
    new_start = (meeting.starts_at + dt.timedelta(days=40)).astimezone(cast.iop.tzinfo)
    url = reverse("scheduling:session_detail", args=[meeting.pk])
    response = client_as(cast.front_desk).post(
        url,
        {
            "action": "change",
            "day": new_start.date().isoformat(),
            "starts_at_time": new_start.strftime("%H:%M"),
            "minutes": "90",
            "location": "Room 12",
            "video_url": "",
        },
    )
    assert response.status_code == 302
    body = client_as(cast.patient).get(reverse("scheduling:my_sessions")).content.decode()
    assert "Changed" in body and "Room 12" in body
