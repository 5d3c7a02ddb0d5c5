"""What is due (``selectors.due_for``, read on every visit to the patient's home) from
statements compiled once per process: each patient's own program, windows and responses
are bound, never kept from the one asked about before."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from tether.checkins.models import Instrument, Response
from tether.checkins.selectors import due_for
from tether.lib import statements
from tether.privacy.gate import record_category_for
from tether.privacy.policy import Category


def _due(user) -> list[tuple[str, bool]]:
    patient = user.patient
    episode = patient.episodes.select_related("program").get(status="active")
    return [
        (d.instrument.code, d.draft is not None) for d in due_for(patient=patient, episode=episode)
    ]


def _answer(user, code: str, status: str) -> None:
    """A response of ``code`` in the window it is due in now."""
    patient = user.patient
    episode = patient.episodes.select_related("program").get(status="active")
    due = next(d for d in due_for(patient=patient, episode=episode) if d.instrument.code == code)
    now = timezone.now()
    Response.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        episode=episode,
        instrument=Instrument.objects.get(code=code, is_current=True),
        window=due.window.key,
        record_category=record_category_for(episode, Category.SELF_REPORT),
        status=status,
        started_at=now,
        expires_at=now + (due.window.closes_at - now),
        submitted_at=now if status == Response.Status.COMPLETE else None,
    )


def test_two_patients_of_two_programs_each_get_their_own_due_list(measures_on, book):
    cast = measures_on
    statements.forget()
    book(cast.patient, hours=30)  # the GAD-7 is asked before this session
    assert sorted(_due(cast.patient)) == [("daily", False), ("gad7", False), ("phq9", False)]
    # The adolescent (another program, no session booked): no GAD-7.
    assert sorted(_due(cast.adolescent)) == [("daily", False), ("phq9", False)]
    _answer(cast.patient, "daily", Response.Status.COMPLETE)
    _answer(cast.patient, "phq9", Response.Status.DRAFT)
    # The one already started comes first; what was finished is no longer asked.
    assert _due(cast.patient) == [("phq9", True), ("gad7", False)]
    assert sorted(_due(cast.adolescent)) == [("daily", False), ("phq9", False)]
    if connection.vendor == "postgresql":
        kept = {key: value for key, value in statements._kept.items() if "checkins.due" in str(key)}
        # The schedules, the instruments, the responses for two and for three windows.
        assert len(kept) == 4 and all(kept.values()), kept
