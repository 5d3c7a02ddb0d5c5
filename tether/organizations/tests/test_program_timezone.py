from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from tether.scheduling.models import Appointment, Attendance


@pytest.fixture
def teen_group(cast):
    """A 4 PM adolescent group, tomorrow, in the program's time zone (New York)."""
    new_york = zoneinfo.ZoneInfo("America/New_York")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    starts = dt.datetime.combine(tomorrow, dt.time(16, 0), tzinfo=new_york)
    appointment = Appointment.objects.create(
        organization=cast.organization,
        program=cast.adolescent_iop,
        kind=Appointment.Kind.GROUP,
        title="Skills group",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=3),
    )
    patient = cast.adolescent.patient
    Attendance.objects.create(
        organization=cast.organization,
        appointment=appointment,
        patient=patient,
        episode=patient.episodes.get(),
    )
    return appointment


def test_it_shows_the_teen_the_time_in_the_programs_zone(cast, client_as, teen_group):
    body = client_as(cast.adolescent).get(reverse("portal:home")).content.decode()
    assert "4:00 PM" in body
    assert "9:00 PM" not in body  # the same moment in UTC


def test_it_shows_the_parent_the_same_time(cast, client_as, teen_group):
    body = client_as(cast.parent).get(reverse("portal:family_home")).content.decode()
    assert "4:00 PM" in body


def test_it_shows_the_clinician_program_time(cast, client_as, teen_group):
    body = client_as(cast.assigned_clinician).get(reverse("staff:dashboard")).content.decode()
    assert "4:00 PM" in body


def test_it_follows_a_program_in_another_zone(cast, client_as, teen_group):
    cast.adolescent_iop.time_zone = "America/Los_Angeles"
    cast.adolescent_iop.save(update_fields=["time_zone"])
    body = client_as(cast.adolescent).get(reverse("portal:home")).content.decode()
    assert "1:00 PM" in body


def test_a_zone_changed_between_two_pages_shows_on_the_next(cast, client_as, teen_group):
    # The zone is read with the user on every request (UsernameOrEmailBackend.get_user).
    client = client_as(cast.adolescent)
    assert "4:00 PM" in client.get(reverse("portal:home")).content.decode()
    cast.adolescent_iop.time_zone = "America/Los_Angeles"
    cast.adolescent_iop.save(update_fields=["time_zone"])
    assert "1:00 PM" in client.get(reverse("portal:home")).content.decode()
