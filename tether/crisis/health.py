"""Is background work running? (The urgent-request escalation depends on it.)

Two processes do background work: ``manage.py run_scheduler`` enqueues the periodic
sweeps and ``manage.py run_worker`` runs them. Either one stopping means an urgent
request that nobody acknowledges is never escalated, with no error anywhere. So:

- the scheduler writes a heartbeat (``SchedulerHeartbeat``) every time it wakes;
- the worker's progress shows in the task table: how long the oldest ready task has
  waited, when a task last succeeded, whether a task's latest run failed, and whether
  a task has been "running" for longer than any of ours takes (a killed worker's;
  the scheduler retries those: tether/crisis/resilience.py).

``background_health()`` reads both (two statements, no patient data). It is
shown by ``/healthz/background`` (503 when degraded), ``manage.py check_background``
(exit code 1) and a banner on staff pages for on-call clinicians, clinical leads and
program admins. Limits: ``TETHER_SCHEDULER_STALE_MINUTES`` and
``TETHER_TASK_WAIT_MINUTES`` (docs/OPERATIONS.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from tether.crisis.models import SchedulerHeartbeat
from tether.lib import statements
from tether.privacy.sealer import first_waiting

SCHEDULER = "scheduler"

# Problem codes (stable: monitoring may match on them).
SCHEDULER_NEVER_RAN = "scheduler_never_ran"
SCHEDULER_STALE = "scheduler_stale"
TASK_WAITING = "task_waiting"
TASK_FAILED = "task_failed"
TASK_STUCK = "task_stuck"
DATABASE_UNREACHABLE = "database_unreachable"
# The audit sealer (run by the scheduler) has left an event unsealed too long.
AUDIT_SEALING_BEHIND = "audit_sealing_behind"

DATABASE_BACKEND = "django_tasks_db.DatabaseBackend"


@dataclass(frozen=True)
class BackgroundHealth:
    checked_at: dt.datetime
    # False when tasks do not go through the database (e.g. the immediate backend runs
    # them inside the request): there is no worker to watch, so nothing can be stuck.
    monitored: bool
    scheduler_beat_at: dt.datetime | None = None
    oldest_waiting_since: dt.datetime | None = None
    last_finished_at: dt.datetime | None = None
    last_failed_at: dt.datetime | None = None
    failed_tasks: tuple[str, ...] = ()
    running_since: dt.datetime | None = None
    oldest_unsealed_at: dt.datetime | None = None
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def stopped_since(self) -> dt.datetime | None:
        """The earliest sign of trouble: the last heartbeat or the oldest waiting task."""
        moments = []
        if SCHEDULER_STALE in self.problems and self.scheduler_beat_at is not None:
            moments.append(self.scheduler_beat_at)
        if TASK_WAITING in self.problems and self.oldest_waiting_since is not None:
            moments.append(self.oldest_waiting_since)
        if TASK_FAILED in self.problems and self.last_failed_at is not None:
            moments.append(self.last_failed_at)
        if TASK_STUCK in self.problems and self.running_since is not None:
            moments.append(self.running_since)
        if AUDIT_SEALING_BEHIND in self.problems and self.oldest_unsealed_at is not None:
            moments.append(self.oldest_unsealed_at)
        return min(moments) if moments else None

    def as_dict(self) -> dict[str, object]:
        def iso(moment: dt.datetime | None) -> str | None:
            return moment.isoformat() if moment is not None else None

        return {
            "status": "ok" if self.ok else "degraded",
            "monitored": self.monitored,
            "problems": list(self.problems),
            "checked_at": iso(self.checked_at),
            "scheduler_last_ran_at": iso(self.scheduler_beat_at),
            "oldest_task_waiting_since": iso(self.oldest_waiting_since),
            "last_task_finished_at": iso(self.last_finished_at),
            "last_task_failed_at": iso(self.last_failed_at),
            "failed_tasks": list(self.failed_tasks),
            "oldest_task_running_since": iso(self.running_since),
            "oldest_unsealed_audit_event_at": iso(self.oldest_unsealed_at),
        }


def database_unreachable(*, now: dt.datetime | None = None) -> BackgroundHealth:
    """What to report when the health itself cannot be read: escalation has stopped."""
    return BackgroundHealth(
        checked_at=now or timezone.now(), monitored=True, problems=(DATABASE_UNREACHABLE,)
    )


def scheduler_beat(*, now: dt.datetime | None = None) -> None:
    """Record that the scheduler is alive (called on every tick of ``run_scheduler``)."""
    SchedulerHeartbeat.objects.update_or_create(
        name=SCHEDULER, defaults={"beat_at": now or timezone.now()}
    )


def _uses_database_backend() -> bool:
    return settings.TASKS.get("default", {}).get("BACKEND") == DATABASE_BACKEND


def background_health(*, now: dt.datetime | None = None) -> BackgroundHealth:
    now = now or timezone.now()
    if not _uses_database_backend():
        return BackgroundHealth(checked_at=now, monitored=False)

    # Imported here: the model exists only when django_tasks_db is installed and used.
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    problems = []
    # One statement for the moments (the heartbeat, the oldest ready task, the last
    # success, the oldest running task, the oldest unsealed audit event), compiled once
    # per process (tether.lib.statements): the banner is read on every page of an on-call
    # clinician, a lead and an admin, and six small queries cost ~6 ms of it.
    sql, params = statements.bound("crisis.background_health", _moments_statement, {"now": now})
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    beat_at, enqueued_at, run_after, last_finished_at, running_since, unsealed_since = (
        statements.moment(value) for value in row
    )
    stale_after = dt.timedelta(minutes=settings.TETHER_SCHEDULER_STALE_MINUTES)
    if beat_at is None:
        problems.append(SCHEDULER_NEVER_RAN)
    elif now - beat_at > stale_after:
        problems.append(SCHEDULER_STALE)

    # The oldest task that is ready to run and nobody has picked up. ``run_after`` is a
    # far-future sentinel for "as soon as possible", so a task waits since it was
    # enqueued, or since its ``run_after`` when that is set and earlier than now.
    waiting_since = None
    if enqueued_at is not None and run_after is not None:
        waiting_since = max(enqueued_at, run_after) if run_after <= now else enqueued_at
        if now - waiting_since > dt.timedelta(minutes=settings.TETHER_TASK_WAIT_MINUTES):
            problems.append(TASK_WAITING)

    # A task whose latest run failed (recently, and no run of it succeeded since): the
    # sweep it stands for is not being done.
    later_success = DBTaskResult.objects.filter(
        task_path=OuterRef("task_path"),
        status=TaskResultStatus.SUCCESSFUL,
        finished_at__gt=OuterRef("finished_at"),
    )
    failures = list(
        DBTaskResult.objects.filter(
            status=TaskResultStatus.FAILED,
            finished_at__gte=now - dt.timedelta(minutes=settings.TETHER_TASK_FAILED_MINUTES),
        )
        .exclude(Exists(later_success))
        .order_by("-finished_at")
        .values_list("task_path", "finished_at")[:50]
    )
    if failures:
        problems.append(TASK_FAILED)
    failed_tasks = tuple(sorted({path for path, _ in failures}))
    last_failed_at = failures[0][1] if failures else None

    # A task "running" for longer than any of ours takes: its worker was killed or lost
    # the database. The scheduler retries it; until then (or when retries ran out and
    # it failed) it is reported.
    running_limit = dt.timedelta(minutes=settings.TETHER_TASK_RUNNING_MINUTES)
    if running_since is not None and now - running_since > running_limit:
        problems.append(TASK_STUCK)

    seal_limit = dt.timedelta(seconds=settings.TETHER_AUDIT_SEAL_LAG_SECONDS)
    if unsealed_since is not None and now - unsealed_since > seal_limit:
        problems.append(AUDIT_SEALING_BEHIND)

    return BackgroundHealth(
        checked_at=now,
        monitored=True,
        scheduler_beat_at=beat_at,
        oldest_waiting_since=waiting_since,
        last_finished_at=last_finished_at,
        last_failed_at=last_failed_at,
        failed_tasks=failed_tasks,
        running_since=running_since,
        oldest_unsealed_at=unsealed_since,
        problems=tuple(problems),
    )


def _moments_statement(values: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """The moments ``background_health`` judges, each a one-row subquery of one SELECT:
    the scheduler's heartbeat; the oldest ready task's enqueued_at and run_after (as
    ``DBTaskResult.objects.ready()``, at ``now``); the last success; the oldest running
    task's start; the oldest unsealed audit event (``sealer.first_waiting``). Fixed text
    and compiled querysets; every value is a parameter."""
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult, get_date_max

    ready = (
        DBTaskResult.objects.filter(status=TaskResultStatus.READY)
        .filter(Q(run_after=get_date_max()) | Q(run_after__lte=values["now"]))
        .order_by("enqueued_at", "pk")
    )
    parts = [
        SchedulerHeartbeat.objects.filter(name=SCHEDULER).values("beat_at")[:1],
        ready.values("enqueued_at")[:1],
        ready.values("run_after")[:1],
        # Only a success counts as the worker getting work done.
        DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL, finished_at__isnull=False)
        .order_by("-finished_at")
        .values("finished_at")[:1],
        DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING)
        .order_by("started_at", "pk")
        .values("started_at")[:1],
    ]
    columns: list[str] = []
    params: list[Any] = []
    for part in parts:
        part_sql, part_params = part.query.sql_with_params()
        columns.append(f"({part_sql})")
        params.extend(part_params)
    waiting = first_waiting().values("at")  # type: ignore[misc]  # an annotation
    waiting_sql, waiting_params = waiting.query.sql_with_params()
    columns.append(f"(SELECT MIN(w.at) FROM ({waiting_sql}) w)")  # noqa: S608 - compiled
    params.extend(waiting_params)
    return "SELECT " + ", ".join(columns), params


BANNER_ROLES = frozenset({"on_call", "clinical_lead", "program_admin"})
