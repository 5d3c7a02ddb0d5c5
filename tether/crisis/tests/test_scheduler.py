from __future__ import annotations

import datetime as dt
import zoneinfo

from django.core.management import call_command

from tether.checkins.tasks import close_expired_checkins
from tether.crisis import services
from tether.crisis.models import Level
from tether.crisis.scheduler import enqueue_due
from tether.crisis.tasks import escalate_urgent_requests

NY = zoneinfo.ZoneInfo("America/New_York")
NIGHT = dt.datetime(2026, 11, 25, 22, 0, tzinfo=NY)


def test_it_enqueues_the_sweep_once_a_minute():
    enqueued: list[object] = []
    last_run: dict[str, dt.datetime] = {}
    start = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    for seconds in (0, 30, 59, 60, 90, 120):
        enqueue_due(last_run, now=start + dt.timedelta(seconds=seconds), enqueue=enqueued.append)
    assert enqueued.count(escalate_urgent_requests) == 3


def test_it_closes_expired_check_in_drafts_every_quarter_hour():
    enqueued: list[object] = []
    last_run: dict[str, dt.datetime] = {}
    start = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    for minutes in (0, 5, 14, 15, 29, 30):
        enqueue_due(last_run, now=start + dt.timedelta(minutes=minutes), enqueue=enqueued.append)
    assert enqueued.count(close_expired_checkins) == 3


def test_it_escalates_through_the_task(cast, settings):
    urgent = services.urgent_contact_raise(
        patient=cast.patient.patient, source="patient_button", now=NIGHT
    )
    # The task runs the sweep at the real "now", long after this request's window.
    assert escalate_urgent_requests.call() == 1
    urgent.refresh_from_db()
    assert urgent.level == Level.CLINICAL_LEAD


def test_it_enqueues_into_the_database_queue(cast):
    from django_tasks_db.models import DBTaskResult

    call_command("run_scheduler", "--once")
    assert DBTaskResult.objects.filter(task_path=escalate_urgent_requests.module_path).count() == 1
