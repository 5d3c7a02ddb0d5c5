"""The demo clinic's story people carry the flags their stories call for."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from tether.demo.stories import Story, username_for
from tether.flags.models import Flag


@pytest.fixture
def seeded(db, settings):
    settings.DEBUG = False
    settings.TETHER_DEMO = True
    settings.TETHER_STAFF_MFA_REQUIRED = False
    call_command("seed_demo", stdout=StringIO())


def _reasons(story: Story) -> set[str]:
    return set(
        Flag.objects.filter(patient__user__username=username_for(story), status="open").values_list(
            "reason", flat=True
        )
    )


def test_it_flags_the_story_people_with_reasons(seeded):
    assert "phq9_deterioration" in _reasons(Story.DETERIORATING)
    # One combined disengagement flag (the single-signal rules are off by default).
    assert "disengagement" in _reasons(Story.SILENT)
    flag = Flag.objects.get(
        patient__user__username=username_for(Story.SILENT), reason="disengagement"
    )
    assert flag.why.startswith("Less engaged than usual:")
    assert "no sign-in for 7 days" in flag.why
    assert not {"phq9_deterioration", "disengagement"} & _reasons(Story.IMPROVING)
