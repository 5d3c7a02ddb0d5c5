"""A session moved while a patient joins its group, under real concurrency on PostgreSQL.

Each attendance row carries a copy of its session's start (``Attendance.starts_at``); the
caseload board, the patient list and the patient's home read the next session from it.
A patient added to a group (``roster_add``) while the front desk moves one of its meetings
(``session_change``) must get the meeting's new time, whichever of the two commits first:
otherwise their "next session" shows the old time until the meeting is moved again.
Threads with their own connections, each transaction held open until the other has
started, so both orders are played out every run. Run with DATABASE_URL=postgres://...
(CI does).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from tether.scheduling import services
from tether.scheduling.models import Appointment, Attendance, GroupSeries
from tether.scheduling.tests.conftest import more_patients

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks need PostgreSQL; run with DATABASE_URL=postgres://…",
    ),
]

HOLD_SECONDS = 1.0


def _run(job: Callable[[], None], errors: list[BaseException]) -> threading.Thread:
    def body() -> None:
        try:
            job()
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=body)
    thread.start()
    return thread


def _tomorrows_meeting(series: GroupSeries) -> Appointment:
    tomorrow = timezone.now() + dt.timedelta(hours=23)
    return series.occurrences.filter(starts_at__gt=tomorrow).order_by("starts_at").first()  # type: ignore[return-value]


def _move(cast: Any, meeting: Appointment, to: dt.datetime) -> None:
    services.session_change(
        appointment=meeting,
        starts_at=to,
        minutes=90,
        location="",
        video_url=meeting.video_url,
        user=cast.front_desk,
    )


def _join(cast: Any, series: GroupSeries, newcomer: Any) -> None:
    services.roster_add(series=series, patient=newcomer.patient, user=cast.front_desk)


def _newcomers_start(meeting: Appointment, newcomer: Any) -> dt.datetime:
    return Attendance.objects.get(appointment=meeting, patient=newcomer.patient).starts_at


def test_a_patient_who_joins_while_a_meeting_moves_gets_its_new_time(cast, group):
    """The join's rows are written first and held; the move, second, must cover them."""
    (newcomer,) = more_patients(cast, 1)
    meeting = _tomorrows_meeting(group)
    later = meeting.starts_at + dt.timedelta(hours=2)
    joined, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def join_and_hold() -> None:
        with transaction.atomic():
            _join(cast, group, newcomer)
            joined.set()
            release.wait(10)

    joining = _run(join_and_hold, errors)
    assert joined.wait(10), errors
    moving = _run(lambda: _move(cast, Appointment.objects.get(pk=meeting.pk), later), errors)
    moving.join(HOLD_SECONDS)  # the move waits for the join's transaction
    release.set()
    joining.join(20)
    moving.join(20)

    assert errors == []
    assert Appointment.objects.get(pk=meeting.pk).starts_at == later
    assert _newcomers_start(meeting, newcomer) == later
    assert Attendance.objects.get(appointment=meeting, patient=cast.patient.patient).starts_at == (
        later
    )


def test_a_patient_who_joins_just_after_a_meeting_moved_gets_its_new_time(cast, group):
    """The move is written first and held; the join read the old time before it committed,
    and must write the new one."""
    (newcomer,) = more_patients(cast, 1)
    meeting = _tomorrows_meeting(group)
    later = meeting.starts_at + dt.timedelta(hours=2)
    moved, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def move_and_hold() -> None:
        with transaction.atomic():
            _move(cast, Appointment.objects.get(pk=meeting.pk), later)
            moved.set()
            release.wait(10)

    moving = _run(move_and_hold, errors)
    assert moved.wait(10), errors
    joining = _run(lambda: _join(cast, group, newcomer), errors)
    joining.join(HOLD_SECONDS)  # the join waits for the move's transaction
    release.set()
    moving.join(20)
    joining.join(20)

    assert errors == []
    assert _newcomers_start(meeting, newcomer) == later
