"""A failed task counts as failed, and a task a killed worker left running is retried
(then reported): in background_health, /healthz/background, check_background."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tether.crisis.health import TASK_FAILED, TASK_STUCK, background_health
from tether.crisis.resilience import ABANDONED, MAX_ATTEMPTS
from tether.crisis.tasks import escalate_urgent_requests

ESCALATION = escalate_urgent_requests.module_path


def _scheduled() -> None:
    call_command("run_scheduler", "--once")


def _task(pk: uuid.UUID) -> DBTaskResult[Any, Any]:
    return DBTaskResult.objects.get(pk=pk)


def test_it_counts_a_failed_sweep_as_failed_not_as_finished(db, client):
    _scheduled()
    failed_at = timezone.now() - dt.timedelta(seconds=30)
    DBTaskResult.objects.filter(task_path=ESCALATION).update(
        status="FAILED", finished_at=failed_at, exception_class_path="builtins.RuntimeError"
    )
    health = background_health()
    assert health.problems == (TASK_FAILED,)
    assert health.failed_tasks == (ESCALATION,)
    assert health.last_finished_at is None  # a failure is not progress
    assert health.stopped_since == failed_at

    response = client.get(reverse("healthz_background"))
    assert response.status_code == 503
    assert response.json()["problems"] == [TASK_FAILED]
    assert response.json()["failed_tasks"] == [ESCALATION]
    with pytest.raises(CommandError) as stopped:
        call_command("check_background")
    assert stopped.value.returncode == 1
    assert TASK_FAILED in str(stopped.value)


def test_it_is_healthy_again_once_the_same_sweep_succeeds(db):
    _scheduled()
    now = timezone.now()
    DBTaskResult.objects.filter(task_path=ESCALATION).update(
        status="FAILED", finished_at=now - dt.timedelta(minutes=2)
    )
    escalate_urgent_requests.enqueue()
    DBTaskResult.objects.filter(task_path=ESCALATION, status="READY").update(
        status="SUCCESSFUL", finished_at=now - dt.timedelta(minutes=1)
    )
    assert background_health().ok


def test_an_old_failure_no_longer_counts(db, settings):
    settings.TETHER_TASK_FAILED_MINUTES = 60
    _scheduled()
    DBTaskResult.objects.filter(task_path=ESCALATION).update(
        status="FAILED", finished_at=timezone.now() - dt.timedelta(minutes=61)
    )
    assert background_health().ok


def _killed_mid_task(*, minutes_ago: int, attempts: int = 1) -> uuid.UUID:
    """A worker claimed the sweep and was killed: the row stays RUNNING."""
    task = DBTaskResult.objects.filter(task_path=ESCALATION)
    task.update(
        status="RUNNING",
        started_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
        worker_ids=[f"killed-{n}" for n in range(attempts)],
    )
    pk: uuid.UUID = task.get().pk
    return pk


def test_it_reports_a_task_left_running_by_a_killed_worker(db, settings):
    settings.TETHER_TASK_RUNNING_MINUTES = 10
    _scheduled()
    _killed_mid_task(minutes_ago=11)
    health = background_health()
    assert health.problems == (TASK_STUCK,)
    assert health.running_since is not None
    _killed_mid_task(minutes_ago=2)  # still within what a sweep may take
    assert background_health().ok


def test_the_scheduler_puts_an_abandoned_task_back_on_the_queue(db, settings):
    settings.TETHER_TASK_RUNNING_MINUTES = 10
    _scheduled()
    killed = _killed_mid_task(minutes_ago=11)
    _scheduled()
    task = _task(killed)
    assert task.status == "READY"
    assert task.started_at is None
    assert DBTaskResult.objects.ready().filter(pk=task.pk).exists()  # a worker will take it
    assert TASK_STUCK not in background_health().problems


def test_it_fails_and_reports_a_task_after_its_last_attempt(db, settings):
    settings.TETHER_TASK_RUNNING_MINUTES = 10
    _scheduled()
    killed = _killed_mid_task(minutes_ago=11, attempts=MAX_ATTEMPTS)
    _scheduled()
    task = _task(killed)
    assert task.status == "FAILED"
    assert task.exception_class_path == ABANDONED
    assert TASK_FAILED in background_health().problems


def test_a_task_running_normally_is_left_alone(db, settings):
    settings.TETHER_TASK_RUNNING_MINUTES = 10
    _scheduled()
    running = _killed_mid_task(minutes_ago=1)
    _scheduled()
    assert _task(running).status == "RUNNING"
