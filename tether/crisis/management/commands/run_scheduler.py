"""Enqueue the periodic tasks (the urgent-request escalation sweep) on time, forever.

Every tick also writes the scheduler's heartbeat, so that a stopped scheduler shows on
``/healthz/background``, in ``manage.py check_background`` and on staff pages, and puts
back on the queue any task a killed worker left running (tether/crisis/resilience.py).
Between ticks it seals the audit events recorded since it last looked into their hash
chains (``tether.privacy.sealer``: the one sealer; it wakes every
``TETHER_AUDIT_SEAL_SECONDS``).

When the database is unreachable the scheduler logs it, waits with a bounded back-off
and tries again, for ever; once it is back, every scheduled task is enqueued at once
(the sweeps missed during the outage run now, not at their next slot).
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from tether.crisis.health import scheduler_beat
from tether.crisis.resilience import (
    DATABASE_ERRORS,
    Backoff,
    close_connections,
    describe,
    requeue_abandoned_tasks,
)
from tether.crisis.scheduler import enqueue_due
from tether.privacy.sealer import seal_pending

logger = logging.getLogger("tether.background")


class Command(BaseCommand):
    help = "Enqueue periodic tasks (run beside `manage.py run_worker`)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="Enqueue what is due and exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        last_run: dict[str, dt.datetime] = {}
        tick = min(settings.TETHER_SCHEDULER_INTERVAL_SECONDS, 60)
        seal_every = dt.timedelta(seconds=settings.TETHER_AUDIT_SEAL_SECONDS)
        next_tick = timezone.now()
        backoff = Backoff(ceiling=min(tick, 10))
        outage_started: float | None = None
        while not stop.is_set():
            now = timezone.now()
            enqueued: list[str] = []
            try:
                if now >= next_tick:
                    scheduler_beat(now=now)
                    requeue_abandoned_tasks(now=now)
                    enqueued = enqueue_due(last_run, now=now)
                    next_tick = now + dt.timedelta(seconds=tick)
                self._seal()
            except DATABASE_ERRORS as error:
                if options["once"]:
                    raise
                close_connections()
                if outage_started is None:
                    outage_started = time.monotonic()
                    last_run.clear()  # run every sweep as soon as the database is back
                next_tick = timezone.now()  # beat as soon as the database is back
                delay = backoff.next()
                logger.warning(
                    "database unreachable (%s); scheduler retries in %.0f s",
                    describe(error),
                    delay,
                )
                stop.wait(delay)
                continue
            if outage_started is not None:
                logger.warning(
                    "database reachable again after %.1f s; scheduler resumes",
                    time.monotonic() - outage_started,
                )
                outage_started = None
                backoff.reset()
            for name in enqueued:
                self.stdout.write(f"enqueued {name}")
            if options["once"]:
                return
            stop.wait(
                min(seal_every, max(next_tick - timezone.now(), dt.timedelta(0))).total_seconds()
            )

    def _seal(self) -> None:
        try:
            seal_pending()
        except DATABASE_ERRORS:
            raise  # an outage: the loop backs off
        except Exception:
            # Sealing is retried on the next tick; a lag shows on /healthz/background.
            logger.exception("Sealing the audit trail failed; retrying on the next tick")
