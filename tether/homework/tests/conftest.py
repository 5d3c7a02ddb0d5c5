from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tether.homework.library import builtin_library
from tether.homework.services import assignment_create


@pytest.fixture
def assign(cast):
    """``assign(patient_user, key, due_in_days=7)``: homework from the built-in library."""
    library = builtin_library()

    def _assign(user, key="thought_record", *, due_in_days=7, starts_days_ago=0, note=""):
        # The patient's program's day, as the pages count it (between midnight UTC and
        # midnight in New York the two dates differ).
        episode = user.patient.episodes.select_related("program").order_by("-pk").first()
        today = timezone.localdate(timezone=episode.program.tzinfo)
        due = today + timedelta(days=due_in_days)
        starts = min(today - timedelta(days=starts_days_ago), due)
        return assignment_create(
            patient=user.patient,
            definition=library[key],
            assigned_by=cast.assigned_clinician,
            due_on=due,
            starts_on=starts,
            note=note,
        )

    return _assign
