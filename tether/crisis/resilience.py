"""Background work that outlives a database outage and a killed worker.

Escalation of urgent requests depends on two long-running processes (``run_scheduler``
and ``run_worker``). Neither may die because PostgreSQL restarted for a moment, and a
task that a killed worker left half-done must not sit "running" forever:

- ``Backoff``: how long to wait before trying the database again (1 s, doubling, at
  most 10 s), for ever: a supervisor (systemd, ``make demo``) restarts a process
  that dies anyway, but a process that waits keeps its place and logs why it waits.
- ``retry_or_fail``: a task whose run was cut short (its worker lost the database, or
  was killed) goes back on the queue, up to ``MAX_ATTEMPTS`` runs in all, then is
  marked failed, so ``/healthz/background`` and ``check_background`` report it. Every
  scheduled task is a sweep that locks and re-checks what it moves, so a second run
  is safe; a new task must be written the same way.
- ``requeue_abandoned_tasks``: run on every scheduler tick; a task "running" for more
  than ``TETHER_TASK_RUNNING_MINUTES`` is taken as abandoned by a dead worker.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.utils import timezone

logger = logging.getLogger("tether.background")

# What "the database went away" looks like to Django: a refused or dropped connection
# (OperationalError) or a closed one used again (InterfaceError).
DATABASE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)

MAX_ATTEMPTS = 3
ABANDONED = "tether.crisis.resilience.TaskAbandoned"


class Backoff:
    """Seconds to wait before the next try: 1, 2, 4, ... capped at ``ceiling``."""

    def __init__(self, *, first: float = 1.0, ceiling: float = 30.0) -> None:
        self.first = first
        self.ceiling = ceiling
        self.delay = first

    def next(self) -> float:
        delay = self.delay
        self.delay = min(self.delay * 2, self.ceiling)
        return delay

    def reset(self) -> None:
        self.delay = self.first


def close_connections() -> None:
    """Drop every (broken) connection so the next query opens a fresh one."""
    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
        except DatabaseError:
            logger.debug("closing a broken connection failed; it is dropped anyway")


def describe(error: BaseException) -> str:
    """One line for the log: the error class and its first line (host and port only)."""
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first_line}"


def retry_or_fail(
    task_id: uuid.UUID | str, *, reason: str, now: dt.datetime | None = None
) -> str | None:
    """Put a task that is still marked running back on the queue, or fail it after
    ``MAX_ATTEMPTS`` runs. Returns "requeued", "failed" or None (it had finished)."""
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    row = (
        DBTaskResult.objects.filter(pk=task_id, status=TaskResultStatus.RUNNING)
        .values("worker_ids", "started_at", "task_path")
        .first()
    )
    if row is None:
        return None
    running = DBTaskResult.objects.filter(
        pk=task_id, status=TaskResultStatus.RUNNING, started_at=row["started_at"]
    )
    attempts = len(row["worker_ids"] or [])
    if attempts < MAX_ATTEMPTS:
        changed = running.update(status=TaskResultStatus.READY, started_at=None)
        outcome = "requeued"
    else:
        changed = running.update(
            status=TaskResultStatus.FAILED,
            finished_at=now,
            exception_class_path=ABANDONED,
            traceback=f"{reason} (after {attempts} attempts)",
            return_value=None,
        )
        outcome = "failed"
    if not changed:
        return None  # it finished meanwhile
    logger.warning(
        "task %s (%s) %s: %s (attempt %d of %d)",
        task_id,
        row["task_path"],
        outcome,
        reason,
        attempts,
        MAX_ATTEMPTS,
    )
    return outcome


def requeue_abandoned_tasks(*, now: dt.datetime | None = None) -> int:
    """Retry (or fail) every task that has been running for longer than any of ours
    takes: its worker was killed or lost the database mid-task. Returns how many."""
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    limit = now - dt.timedelta(minutes=settings.TETHER_TASK_RUNNING_MINUTES)
    abandoned = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=limit
    ).values_list("pk", flat=True)
    reason = f"still running after {settings.TETHER_TASK_RUNNING_MINUTES} min; worker presumed dead"
    return sum(1 for task_id in list(abandoned) if retry_or_fail(task_id, reason=reason, now=now))
