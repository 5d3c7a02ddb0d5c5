from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from tether.demo.stories import Story, username_for
from tether.homework.models import Assignment
from tether.homework.selectors import coping_skills_for
from tether.patients.models import Patient
from tether.safetyplan.selectors import latest_version


@pytest.fixture
def seeded(db, settings):
    settings.DEBUG = False
    settings.TETHER_DEMO = True
    settings.TETHER_STAFF_MFA_REQUIRED = False
    call_command("seed_demo", stdout=StringIO())


def _patient(story: Any) -> Any:
    return Patient.objects.get(user__username=username_for(story))


def test_it_gives_the_story_people_a_safety_plan_and_homework(seeded):
    for story in (Story.IMPROVING, Story.DETERIORATING, Story.ADOLESCENT):
        plan = latest_version(patient=_patient(story))
        assert plan is not None and plan.number == 2 and plan.warning_signs
    improving = Assignment.objects.filter(patient=_patient(Story.IMPROVING))
    assert {a.display_status for a in improving} == {"Done", "In progress"}
    assert any(a.feedback for a in improving)
    late = [
        a for a in Assignment.objects.filter(patient=_patient(Story.DETERIORATING)) if a.is_late
    ]
    assert len(late) == 2
    assert "Drawing" in coping_skills_for(patient=_patient(Story.ADOLESCENT))
