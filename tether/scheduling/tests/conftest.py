"""A daily evening group in the adult IOP, run by the assigned clinician: one meeting
started an hour ago (attendance can be taken), the others to come."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tether.scheduling import services
from tether.scheduling.models import Appointment, GroupSeries
from tether.testing.cast import make_patient


def started_group(
    cast: Any, *, patients: list[Any], title: str = "Evening skills group"
) -> GroupSeries:
    """A daily group laid out a week ago (services take ``now=``), its latest meeting
    started an hour ago; ``patients`` on its roster since then."""
    program = cast.iop
    now = timezone.now()
    local = (now - dt.timedelta(hours=1)).astimezone(program.tzinfo)
    week_ago = now - dt.timedelta(days=8)
    series = services.series_create(
        program=program,
        title=title,
        weekdays="0123456",
        starts_at_time=local.time().replace(second=0, microsecond=0),
        minutes=90,
        first_day=local.date() - dt.timedelta(days=7),
        last_day=local.date() + dt.timedelta(days=14),
        facilitator=cast.assigned_clinician.staff_member,
        location="",
        video_url="https://video.example.org/evening",
        user=cast.front_desk,
        now=week_ago,
    )
    for user in patients:
        services.roster_add(series=series, patient=user.patient, user=cast.front_desk, now=week_ago)
    return series


def current_meeting(series: GroupSeries) -> Appointment:
    return series.occurrences.filter(starts_at__lte=timezone.now()).order_by("-starts_at").first()  # type: ignore[return-value]


def more_patients(cast: Any, count: int) -> list[Any]:
    return [
        make_patient(
            cast.organization,
            cast.iop,
            f"group.member{n}",
            first_name=f"Member{n:02d}",
            last_name="Group",
            clinician=cast.assigned_clinician,
        )
        for n in range(count)
    ]


@pytest.fixture
def group(cast: Any) -> GroupSeries:
    return started_group(cast, patients=[cast.patient])
