"""Ending a recurring group early: meetings to come cancelled and seen by its patients at
once, past meetings untouched; schedulers of the program only."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tether.privacy.models import AuditEvent
from tether.scheduling import services
from tether.scheduling.models import Attendance, RosterEntry
from tether.scheduling.tests.conftest import current_meeting

pytestmark = pytest.mark.django_db
END = {"action": "end", "confirm": "on"}


def test_ending_the_group_cancels_what_is_to_come_and_keeps_the_past(
    cast: Any, client_as: Any, group: Any
) -> None:
    now = timezone.now()
    meeting = current_meeting(group)
    services.attendance_take(
        appointment=meeting,
        marks={cast.patient.patient.pk: services.Mark("late")},
        allowed_patient_ids=[cast.patient.patient.pk],
        staff=cast.assigned_clinician.staff_member,
        user=cast.assigned_clinician,
    )
    past_before = list(
        group.occurrences.filter(starts_at__lte=now).values_list(
            "pk", "is_cancelled", "starts_at", "location"
        )
    )
    to_come = group.occurrences.filter(starts_at__gt=now).count()
    url = reverse("scheduling:series_detail", args=[group.pk])
    response = client_as(cast.front_desk).post(url, END)
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.ended_at is not None
    assert (
        group.occurrences.filter(
            starts_at__gt=now, is_cancelled=True, cancel_reason="group_ended"
        ).count()
        == to_come
    )
    past_after = list(
        group.occurrences.filter(starts_at__lte=now).values_list(
            "pk", "is_cancelled", "starts_at", "location"
        )
    )
    assert past_after == past_before
    assert Attendance.objects.get(appointment=meeting).status == "late"
    assert not RosterEntry.objects.filter(series=group, removed_at__isnull=True).exists()
    assert AuditEvent.objects.filter(
        object_type="scheduling.groupseries", object_id=str(group.pk), action="update"
    ).exists()
    # The patient sees it at once.
    page = client_as(cast.patient).get(reverse("scheduling:my_sessions")).content.decode()
    assert "The group has ended." in page
    # The group's page says so and offers no more changes.
    page = client_as(cast.front_desk).get(url).content.decode()
    assert "This group ended on" in page
    assert "End the group" not in page
    # Ending it again, or adding someone, is refused.
    assert client_as(cast.front_desk).post(url, END).status_code == 400
    with pytest.raises(services.ScheduleError):
        services.roster_add(series=group, patient=cast.patient.patient, user=cast.front_desk)


def test_ending_needs_the_confirm_box(cast: Any, client_as: Any, group: Any) -> None:
    url = reverse("scheduling:series_detail", args=[group.pk])
    response = client_as(cast.front_desk).post(url, {"action": "end"})
    assert response.status_code == 400
    assert "Tick the box" in response.content.decode()
    group.refresh_from_db()
    assert group.ended_at is None


@pytest.mark.parametrize(
    "persona",
    (
        "assigned_clinician",
        "on_call",
        "privacy_officer",
        "patient",
        "parent",
        "other_org_clinician",
    ),
)
def test_the_wrong_people_cannot_end_the_group(
    cast: Any, client_as: Any, group: Any, persona: str
) -> None:
    url = reverse("scheduling:series_detail", args=[group.pk])
    assert client_as(getattr(cast, persona)).post(url, END).status_code == 404
    group.refresh_from_db()
    assert group.ended_at is None
    assert not group.occurrences.filter(is_cancelled=True).exists()
