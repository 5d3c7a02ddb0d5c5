"""The staff overview's measures (``latest_scores``): what ``history`` shows for the
scored measures, in a fixed number of queries whatever the history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tether.checkins.models import Response
from tether.checkins.selectors import Series, current_episode, history, latest_scores
from tether.flags.testing import add_response

CATEGORIES = frozenset({"self_report", "part2"})


def _shown(series: list[Series]) -> list[tuple[Any, ...]]:
    """What the overview's template reads of each measure."""
    return [
        (
            s.instrument.code,
            s.title,
            s.latest and (s.latest.value, s.latest.when, s.latest.band),
            s.baseline and s.baseline.value,
            s.latest_change,
            bool(s.points or s.incomplete),
        )
        for s in series
        if s.item is None
    ]


def _both(patient: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    episode = current_episode(patient=patient)
    return (
        _shown(history(patient=patient, episode=episode, categories=CATEGORIES)),
        _shown(latest_scores(patient=patient, episode=episode, categories=CATEGORIES)),
    )


def test_it_shows_what_the_whole_history_shows(cast):
    patient = cast.patient.patient
    now = timezone.now()
    assert _both(patient) == ([], [])
    add_response(patient, "phq9", now - dt.timedelta(days=30), total=18)
    one = _both(patient)
    assert one[0] == one[1] and one[1][0][4] is None  # one score: no change yet
    add_response(patient, "phq9", now - dt.timedelta(days=20), total=14)
    add_response(patient, "phq9", now - dt.timedelta(days=2), total=9)
    # Two responses at the same moment: the later one (by id) is the latest.
    first = add_response(patient, "gad7", now - dt.timedelta(days=6), total=12)
    add_response(patient, "gad7", now - dt.timedelta(days=5), total=6)
    Response.objects.filter(pk=first.pk).update(submitted_at=now - dt.timedelta(days=5))
    # A measure never completed still has its line ("no complete response yet").
    incomplete = add_response(patient, "phq9", now - dt.timedelta(days=1), total=None)
    incomplete.status = Response.Status.INCOMPLETE
    incomplete.save(update_fields=["status"])
    add_response(patient, "daily", now - dt.timedelta(days=1), items={"mood": 6})
    from_history, from_latest = _both(patient)
    assert from_latest == from_history
    assert [row[0] for row in from_latest] == ["gad7", "phq9"]
    assert from_latest[1][2][0] == 9 and from_latest[1][3] == 18
    assert from_latest[1][4] is not None and from_latest[1][4].reliable_improvement


def test_it_reads_the_same_queries_whatever_the_history(cast):
    patient = cast.patient.patient
    episode = current_episode(patient=patient)
    now = timezone.now()
    add_response(patient, "phq9", now - dt.timedelta(days=60), total=20)
    with CaptureQueriesContext(connection) as small:
        latest_scores(patient=patient, episode=episode, categories=CATEGORIES)
    for day in range(1, 40):
        add_response(patient, "phq9", now - dt.timedelta(days=day), total=day % 27)
        add_response(patient, "daily", now - dt.timedelta(days=day), items={"mood": 5})
    with CaptureQueriesContext(connection) as large:
        latest_scores(patient=patient, episode=episode, categories=CATEGORIES)
    assert len(large.captured_queries) == len(small.captured_queries) == 2
