"""Laying out a recurring group and keeping its roster: schedulers only, bad input
kept with a message, roster changes through the gate."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tether.scheduling.models import GroupSeries, RosterEntry

pytestmark = pytest.mark.django_db

SCHEDULERS = ("front_desk", "clinical_lead", "program_admin")
NOT_SCHEDULERS = (
    "assigned_clinician",
    "unassigned_clinician",
    "on_call",
    "privacy_officer",
    "other_org_clinician",
    "patient",
    "parent",
)


def _form(cast: Any, **overrides: Any) -> Any:
    today = timezone.now().astimezone(cast.iop.tzinfo).date()
    data = {
        "program": cast.iop.pk,
        "title": "Tuesday evening group",
        "weekdays": ["1", "3"],
        "starts_at_time": "18:00",
        "minutes": "180",
        "first_day": (today + dt.timedelta(days=1)).isoformat(),
        "last_day": (today + dt.timedelta(days=29)).isoformat(),
        "facilitator": cast.assigned_clinician.staff_member.pk,
        "location": "Room 3",
        "video_url": "",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("persona", SCHEDULERS)
def test_a_scheduler_lays_out_a_group(cast, client_as, persona):
    client = client_as(getattr(cast, persona))
    assert client.get(reverse("scheduling:series_new")).status_code == 200
    response = client.post(reverse("scheduling:series_new"), _form(cast))
    series = GroupSeries.objects.get()
    assert response.url == reverse("scheduling:series_detail", args=[series.pk])
    assert series.occurrences.count() in (8, 9)  # Tuesdays and Thursdays for four weeks


@pytest.mark.parametrize("persona", NOT_SCHEDULERS)
def test_it_checks_access_and_the_wrong_people_cannot_post(cast, client_as, persona):
    client = client_as(getattr(cast, persona))
    assert client.get(reverse("scheduling:series_new")).status_code == 404
    assert client.post(reverse("scheduling:series_new"), _form(cast)).status_code == 404
    assert not GroupSeries.objects.exists()


def test_a_clash_is_named_on_the_page_and_what_was_typed_is_kept(cast, client_as):
    client = client_as(cast.front_desk)
    client.post(reverse("scheduling:series_new"), _form(cast))
    response = client.post(
        reverse("scheduling:series_new"),
        _form(cast, title="A second group", location="Room 7", weekdays=["3"]),
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Nothing was saved" in body
    assert "Dana Staff already runs “Tuesday evening group” then." in body
    assert 'value="A second group"' in body
    assert GroupSeries.objects.count() == 1


def test_a_bad_date_keeps_what_was_typed(cast, client_as):
    response = client_as(cast.front_desk).post(
        reverse("scheduling:series_new"), _form(cast, first_day="31/02/2027", title="Kept")
    )
    assert response.status_code == 400
    assert "Enter a valid date." in response.content.decode()
    assert 'value="Kept"' in response.content.decode()


@pytest.mark.parametrize("persona", ("front_desk", "clinical_lead", "assigned_clinician"))
def test_the_right_people_see_the_roster(cast, client_as, group, persona):
    body = (
        client_as(getattr(cast, persona))
        .get(reverse("scheduling:series_detail", args=[group.pk]))
        .content.decode()
    )
    assert "Maria Garcia" in body


@pytest.mark.parametrize(
    "persona", ("privacy_officer", "other_org_clinician", "patient", "parent", "adolescent")
)
def test_the_roster_checks_access(cast, client_as, group, persona):
    url = reverse("scheduling:series_detail", args=[group.pk])
    assert client_as(getattr(cast, persona)).get(url).status_code == 404


def test_the_roster_shows_only_patients_in_the_viewers_care(cast, client_as, group):
    # The unassigned clinician is in the program but not on Maria's team.
    body = (
        client_as(cast.unassigned_clinician)
        .get(reverse("scheduling:series_detail", args=[group.pk]))
        .content.decode()
    )
    assert "Maria" not in body
    assert "1 more person on the roster is not in your care." in body


@pytest.mark.parametrize(
    "persona",
    (
        "unassigned_clinician",
        "on_call",
        "program_admin",
        "other_org_clinician",
        "patient",
        "parent",
    ),
)
def test_the_wrong_people_cannot_change_the_roster(cast, client_as, group, persona):
    url = reverse("scheduling:series_detail", args=[group.pk])
    client = client_as(getattr(cast, persona))
    assert (
        client.post(url, {"action": "remove", "patient": cast.patient.patient.pk}).status_code
        == 404
    )
    if persona != "unassigned_clinician":  # Tom's own clinician may put Tom in a group
        response = client.post(url, {"action": "add", "patient": cast.other_patient.patient.pk})
        assert response.status_code == 404
    assert list(
        RosterEntry.objects.filter(removed_at__isnull=True).values_list("patient", flat=True)
    ) == [cast.patient.patient.pk]


def test_the_front_desk_adds_and_removes_a_patient(cast, client_as, group):
    url = reverse("scheduling:series_detail", args=[group.pk])
    client = client_as(cast.front_desk)
    assert (
        client.post(url, {"action": "add", "patient": cast.other_patient.patient.pk}).status_code
        == 302
    )
    assert (
        client.post(url, {"action": "remove", "patient": cast.patient.patient.pk}).status_code
        == 302
    )
    on_roster = RosterEntry.objects.filter(series=group, removed_at__isnull=True)
    assert list(on_roster.values_list("patient", flat=True)) == [cast.other_patient.patient.pk]


def _change(cast: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "action": "change",
        "facilitator": cast.unassigned_clinician.staff_member.pk,
        "location": "Room 8",
        "video_url": "https://video.example.org/new",
    }
    data.update(overrides)
    return data


def test_a_change_to_the_group_reaches_only_meetings_to_come(
    cast: Any, client_as: Any, group: Any
) -> None:
    from tether.patients.models import CareTeamMember
    from tether.scheduling.tests.conftest import current_meeting

    url = reverse("scheduling:series_detail", args=[group.pk])
    response = client_as(cast.front_desk).post(url, _change(cast))
    assert response.status_code == 302
    started = current_meeting(group)
    assert (started.location, started.clinician_id) == ("", cast.assigned_clinician.staff_member.pk)
    later = group.occurrences.filter(starts_at__gt=timezone.now())
    assert set(later.values_list("location", flat=True)) == {"Room 8"}
    assert CareTeamMember.objects.filter(
        staff_member=cast.unassigned_clinician.staff_member,
        episode__patient=cast.patient.patient,
        role="group_facilitator",
    ).exists()
    body = client_as(cast.patient).get(reverse("scheduling:my_sessions")).content.decode()
    assert "Changed" in body and "https://video.example.org/new" in body


def test_a_group_change_that_double_books_the_room_is_refused(
    cast: Any, client_as: Any, group: Any
) -> None:
    from tether.scheduling.models import Appointment

    following = group.occurrences.filter(starts_at__gt=timezone.now()).order_by("starts_at")[0]
    Appointment.objects.create(
        organization=cast.organization,
        program=cast.iop,
        kind="individual",
        title="Individual session",
        starts_at=following.starts_at,
        ends_at=following.ends_at,
        location="room 8",
    )
    url = reverse("scheduling:series_detail", args=[group.pk])
    response = client_as(cast.front_desk).post(url, _change(cast))
    assert response.status_code == 400
    body = response.content.decode()
    assert "the room room 8 is already booked" in body
    assert 'value="https://video.example.org/new"' in body
    assert not group.occurrences.filter(location="Room 8").exists()


@pytest.mark.parametrize(
    "persona", ("assigned_clinician", "on_call", "patient", "parent", "other_org_clinician")
)
def test_the_wrong_people_cannot_change_the_group(
    cast: Any, client_as: Any, group: Any, persona: str
) -> None:
    url = reverse("scheduling:series_detail", args=[group.pk])
    assert client_as(getattr(cast, persona)).post(url, _change(cast)).status_code == 404
    assert not group.occurrences.filter(location="Room 8").exists()
