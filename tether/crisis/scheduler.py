"""The periodic schedule: which tasks the scheduler enqueues, and how often.

``manage.py run_scheduler`` enqueues each task when it is due; ``manage.py run_worker``
runs them. A sweep that is enqueued twice is harmless (each sweep locks the rows it
moves), so running two schedulers by mistake costs work, never a double escalation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.tasks import Task

from tether.checkins.tasks import close_expired_checkins
from tether.crisis.tasks import escalate_urgent_requests
from tether.flags.tasks import sweep_flags
from tether.outreach.tasks import sweep_reminders


@dataclass(frozen=True)
class Periodic:
    task: Task  # type: ignore[type-arg]
    every: dt.timedelta


SCHEDULE: tuple[Periodic, ...] = (
    Periodic(escalate_urgent_requests, dt.timedelta(minutes=1)),
    Periodic(close_expired_checkins, dt.timedelta(minutes=15)),
    Periodic(sweep_flags, dt.timedelta(minutes=15)),
    Periodic(sweep_reminders, dt.timedelta(minutes=5)),
)


def enqueue_due(
    last_run: dict[str, dt.datetime],
    *,
    now: dt.datetime,
    enqueue: Callable[[Task], object] = lambda t: t.enqueue(),  # type: ignore[type-arg]
) -> list[str]:
    """Enqueue every scheduled task that is due at ``now``; returns their names."""
    enqueued = []
    for item in SCHEDULE:
        name = item.task.module_path
        previous = last_run.get(name)
        if previous is None or now - previous >= item.every:
            enqueue(item.task)
            last_run[name] = now
            enqueued.append(name)
    return enqueued
