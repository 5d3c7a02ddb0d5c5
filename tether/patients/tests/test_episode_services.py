"""Admission to discharge: step down with a day and a reason, discharge with a reason
from the fixed list, the aftercare plan, access for the program's number of days, final
measures offered; bad dates refused with nothing saved."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tether.checkins.models import Response
from tether.checkins.sync import sync_instruments
from tether.organizations.models import Program
from tether.patients import services
from tether.patients.models import AftercarePlan, Episode, LevelOfCareChange
from tether.privacy.models import AuditEvent
from tether.scheduling.models import Attendance, RosterEntry
from tether.scheduling.tests.conftest import started_group

pytestmark = pytest.mark.django_db


def _program_today() -> dt.date:
    """Today on the cast program's clock (the services' "today"), not UTC's: the two
    differ every evening in the program's time zone."""
    return timezone.now().astimezone(Program.objects.get(name="Adult IOP").tzinfo).date()


def _episode(cast: Any) -> Episode:
    return Episode.objects.get(patient=cast.patient.patient, status="active")


def _discharge(cast: Any, **overrides: Any) -> AftercarePlan:
    args = {
        "episode": _episode(cast),
        "discharged_on": _program_today(),
        "reason": "stopped_attending",
        "next_appointments": "Dr. Rivera, outpatient therapy, Tuesday 10:00",
        "who_to_call": "Front desk 555-0100",
        "keeps_safety_plan": True,
        "offer_final_measures": True,
        "staff": cast.assigned_clinician.staff_member,
        "user": cast.assigned_clinician,
    }
    args.update(overrides)
    return services.episode_discharge(**args)


def test_a_step_down_records_the_day_the_reason_and_the_new_level(cast: Any) -> None:
    episode = _episode(cast)
    Episode.objects.filter(pk=episode.pk).update(level_of_care="php")
    episode.refresh_from_db()
    change = services.level_of_care_change(
        episode=episode,
        to_level="iop",
        changed_on=_program_today(),
        reason="improved",
        staff=cast.assigned_clinician.staff_member,
        user=cast.assigned_clinician,
    )
    assert (change.from_level, change.to_level, change.reason) == ("php", "iop", "improved")
    assert _episode(cast).level_of_care == "iop"
    assert AuditEvent.objects.filter(
        object_type="patients.levelofcarechange", patient=cast.patient.patient, action="create"
    ).exists()


def test_a_step_before_the_admission_or_to_the_same_level_is_refused(cast: Any) -> None:
    episode = _episode(cast)
    with pytest.raises(services.EpisodeError) as refused:
        services.level_of_care_change(
            episode=episode,
            to_level="iop",
            changed_on=episode.admitted_on - dt.timedelta(days=1),
            reason="improved",
            staff=cast.assigned_clinician.staff_member,
            user=cast.assigned_clinician,
        )
    assert "already at this level of care" in refused.value.problems[0]
    assert "cannot come before the admission" in refused.value.problems[1]
    assert not LevelOfCareChange.objects.exists()


def test_a_discharge_keeps_the_plan_releases_bookings_and_offers_final_measures(
    cast: Any,
) -> None:
    sync_instruments()
    group = started_group(cast, patients=[cast.patient])
    plan = _discharge(cast)
    episode = Episode.objects.get(pk=plan.episode_id)
    assert (episode.status, episode.discharge_reason) == ("discharged", "stopped_attending")
    assert episode.ended_as_planned is False
    assert episode.access_until == _program_today() + dt.timedelta(days=30)
    assert plan.next_appointments.startswith("Dr. Rivera")
    assert plan.record_category == "shared"
    # No place kept in groups to come; what happened before stays.
    assert not RosterEntry.objects.filter(series=group, removed_at__isnull=True).exists()
    assert not Attendance.objects.filter(
        patient=cast.patient.patient, appointment__starts_at__gt=timezone.now()
    ).exists()
    assert Attendance.objects.filter(patient=cast.patient.patient).exists()
    offered = Response.objects.filter(
        patient=cast.patient.patient, window=f"discharge:{episode.pk}"
    )
    assert sorted(offered.values_list("instrument__code", flat=True)) == ["gad7", "phq9"]
    assert AuditEvent.objects.filter(
        object_type="patients.aftercareplan", category="shared", actor=cast.assigned_clinician
    ).exists()


def test_a_completed_episode_is_a_planned_ending(cast: Any) -> None:
    plan = _discharge(cast, reason="completed", offer_final_measures=False)
    assert Episode.objects.get(pk=plan.episode_id).ended_as_planned is True
    assert not Response.objects.exists()


def test_a_discharge_before_admission_saves_nothing(cast: Any) -> None:
    episode = _episode(cast)
    with pytest.raises(services.EpisodeError) as refused:
        _discharge(cast, discharged_on=episode.admitted_on - dt.timedelta(days=2))
    assert "A discharge cannot come before the admission on" in refused.value.problems[0]
    assert _episode(cast).status == "active"
    assert not AftercarePlan.objects.exists()


def test_an_old_or_unknown_reason_is_refused(cast: Any) -> None:
    with pytest.raises(services.EpisodeError, match="Choose the reason"):
        _discharge(cast, reason="other")


def test_a_readmission_cannot_come_before_the_last_discharge(cast: Any) -> None:
    _discharge(cast, offer_final_measures=False)
    with pytest.raises(services.EpisodeError, match="before the last discharge"):
        services.episode_admit(
            patient=cast.patient.patient,
            program=cast.iop,
            level_of_care="iop",
            admitted_on=_program_today() - dt.timedelta(days=3),
            user=cast.front_desk,
        )
    episode = services.episode_admit(
        patient=cast.patient.patient,
        program=cast.iop,
        level_of_care="op",
        admitted_on=_program_today(),
        user=cast.front_desk,
    )
    assert episode.status == "active"


def test_a_discharge_before_the_last_step_down_is_refused(cast: Any) -> None:
    episode = _episode(cast)
    Episode.objects.filter(pk=episode.pk).update(level_of_care="php")
    episode.refresh_from_db()
    services.level_of_care_change(
        episode=episode,
        to_level="iop",
        changed_on=_program_today(),
        reason="improved",
        staff=cast.assigned_clinician.staff_member,
        user=cast.assigned_clinician,
    )
    with pytest.raises(services.EpisodeError, match="before the last change of level"):
        _discharge(cast, discharged_on=_program_today() - dt.timedelta(days=1))
