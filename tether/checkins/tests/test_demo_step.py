"""The demo clinic's check-ins and measures tell each story person's story."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from tether.checkins.models import Answer, Response
from tether.demo.stories import Story, username_for
from tether.flags.models import Flag
from tether.patients.models import Patient


@pytest.fixture
def seeded(db, settings):
    settings.DEBUG = False
    settings.TETHER_DEMO = True
    settings.TETHER_STAFF_MFA_REQUIRED = False
    call_command("seed_demo", stdout=StringIO())


def _patient(story: Story) -> Patient:
    return Patient.objects.get(user__username=username_for(story))


def _phq9(story: Story) -> list[int]:
    totals = (
        Response.objects.filter(patient=_patient(story), instrument__code="phq9")
        .order_by("submitted_at")
        .values_list("total", flat=True)
    )
    return [total for total in totals if total is not None]


def test_it_tells_each_story_in_check_ins_and_measures(seeded):
    improving = _phq9(Story.IMPROVING)
    assert improving[0] == 18 and improving[-1] == 9
    worse = _phq9(Story.DETERIORATING)
    assert worse[-1] - worse[0] >= 6
    flag = Flag.objects.get(patient=_patient(Story.DETERIORATING), reason="phq9_item9")
    assert (flag.kind, flag.reason, flag.status) == ("safety", "phq9_item9", "open")
    assert Answer.objects.get(response_id=flag.source_id, item_code="9").value == 1
    last = Response.objects.filter(patient=_patient(Story.SILENT)).order_by("-submitted_at").first()
    assert last is not None and last.submitted_at is not None
    assert last.submitted_at <= timezone.now() - dt.timedelta(days=9)
    assert (
        Answer.objects.filter(
            response__patient=_patient(Story.SUBSTANCE_USE), item_code="craving"
        ).count()
        >= 5
    )
    assert Response.objects.filter(patient=_patient(Story.ADOLESCENT)).count() >= 10
    # Nothing for today yet: signing in as the improving patient shows what is due.
    assert not Response.objects.filter(
        patient=_patient(Story.IMPROVING), window=f"daily:{timezone.localdate().isoformat()}"
    ).exists()
