"""A stopped scheduler or worker is noticed: /healthz/background, check_background, a banner."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tether.crisis.health import (
    SCHEDULER_NEVER_RAN,
    SCHEDULER_STALE,
    TASK_WAITING,
    background_health,
    scheduler_beat,
)
from tether.crisis.tasks import escalate_urgent_requests

BANNER = "Background work has stopped"


def _running_normally() -> None:
    """The scheduler woke just now and enqueued its sweeps; nothing has waited long."""
    call_command("run_scheduler", "--once")


def _scheduler_stopped(minutes_ago: int = 20) -> None:
    scheduler_beat(now=timezone.now() - dt.timedelta(minutes=minutes_ago))


def _worker_stopped(minutes_ago: int = 20) -> None:
    """The scheduler keeps enqueueing, but a sweep from long ago was never picked up."""
    _running_normally()
    DBTaskResult.objects.filter(task_path=escalate_urgent_requests.module_path).update(
        enqueued_at=timezone.now() - dt.timedelta(minutes=minutes_ago)
    )


def _check(capsys) -> tuple[int, str]:
    capsys.readouterr()
    try:
        call_command("check_background")
    except CommandError as error:
        return error.returncode, str(error)
    return 0, capsys.readouterr().out


# --- The health itself ---------------------------------------------------------------------


def test_it_is_healthy_when_the_scheduler_just_ran(db):
    _running_normally()
    health = background_health()
    assert health.ok
    assert health.scheduler_beat_at is not None


def test_it_says_the_scheduler_never_ran_on_a_fresh_install(db):
    assert background_health().problems == (SCHEDULER_NEVER_RAN,)


def test_it_notices_a_stale_scheduler(db, settings):
    settings.TETHER_SCHEDULER_STALE_MINUTES = 5
    _scheduler_stopped(minutes_ago=6)
    assert background_health().problems == (SCHEDULER_STALE,)
    _scheduler_stopped(minutes_ago=4)
    assert background_health().ok


def test_it_notices_a_task_nobody_picked_up(db, settings):
    settings.TETHER_TASK_WAIT_MINUTES = 5
    _worker_stopped(minutes_ago=6)
    health = background_health()
    assert health.problems == (TASK_WAITING,)
    assert health.stopped_since is not None


def test_it_reports_when_a_task_last_finished(db):
    _running_normally()
    finished = timezone.now() - dt.timedelta(minutes=1)
    DBTaskResult.objects.update(status="SUCCESSFUL", finished_at=finished)
    health = background_health()
    assert health.ok
    assert health.last_finished_at == finished


def test_it_has_nothing_to_watch_when_tasks_run_in_process(db, settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    health = background_health()
    assert health.ok
    assert not health.monitored


# --- /healthz/background and /healthz -----------------------------------------------------


def test_the_endpoint_answers_200_while_running(db, client):
    _running_normally()
    response = client.get(reverse("healthz_background"))
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize(
    ("stop", "problem"),
    [(_scheduler_stopped, SCHEDULER_STALE), (_worker_stopped, TASK_WAITING)],
)
def test_the_endpoint_answers_503_when_escalation_has_stopped(db, client, stop, problem):
    stop()
    response = client.get(reverse("healthz_background"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert problem in body["problems"]


def test_the_load_balancer_check_stays_up_when_background_work_stops(db, client):
    # A stopped worker must not take the portal, and its crisis pages, out of service.
    _scheduler_stopped()
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.content == b"ok"


# --- manage.py check_background -----------------------------------------------------------


def test_the_command_exits_0_while_running(db, capsys):
    _running_normally()
    code, output = _check(capsys)
    assert code == 0
    assert output.strip().endswith("ok")


@pytest.mark.parametrize("stop", [_scheduler_stopped, _worker_stopped])
def test_the_command_exits_1_when_escalation_has_stopped(db, capsys, stop):
    stop()
    code, message = _check(capsys)
    assert code == 1
    assert "not escalated" in message


def test_the_command_exits_1_on_a_fresh_install(db, capsys):
    code, message = _check(capsys)
    assert code == 1
    assert SCHEDULER_NEVER_RAN in message


def test_the_command_prints_json_for_monitoring(db, capsys):
    _running_normally()
    capsys.readouterr()  # the scheduler's own output
    call_command("check_background", "--json")
    details = json.loads(capsys.readouterr().out)
    assert details["status"] == "ok"
    assert details["scheduler_last_ran_at"]


# --- The banner on staff pages ----------------------------------------------------------------


@pytest.mark.parametrize("persona", ["on_call", "clinical_lead", "program_admin"])
def test_the_people_who_handle_escalation_see_the_banner(cast, client_as, persona):
    _scheduler_stopped()
    page = client_as(getattr(cast, persona)).get(reverse("crisis:staff_requests"))
    assert page.status_code == 200
    content = page.content.decode()
    assert BANNER in content
    assert "call the on-call line directly" in content


@pytest.mark.parametrize("persona", ["on_call", "clinical_lead", "program_admin"])
def test_no_banner_while_background_work_runs(cast, client_as, persona):
    _running_normally()
    page = client_as(getattr(cast, persona)).get(reverse("crisis:staff_requests"))
    assert BANNER not in page.content.decode()


@pytest.mark.parametrize("persona", ["assigned_clinician", "front_desk"])
def test_other_staff_do_not_get_the_banner(cast, client_as, persona):
    _scheduler_stopped()
    page = client_as(getattr(cast, persona)).get(reverse("staff:dashboard"))
    assert page.status_code == 200
    assert BANNER not in page.content.decode()


def test_patients_never_see_the_banner(cast, client_as):
    _scheduler_stopped()
    page = client_as(cast.patient).get(reverse("portal:home"))
    assert BANNER not in page.content.decode()
