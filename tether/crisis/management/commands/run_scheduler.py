"""Enqueue the periodic tasks (the urgent-request escalation sweep) on time, forever.

Every tick also writes the scheduler's heartbeat, so that a stopped scheduler shows on
``/healthz/background``, in ``manage.py check_background`` and on staff pages, and
seals the audit events recorded since the last tick into their hash chains
(``tether.privacy.sealer``: the one sealer; it wakes every
``TETHER_AUDIT_SEAL_SECONDS``).
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from tether.crisis.health import scheduler_beat
from tether.crisis.scheduler import enqueue_due
from tether.privacy.sealer import seal_pending

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Enqueue periodic tasks (run beside `manage.py db_worker`)."

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
        while not stop.is_set():
            now = timezone.now()
            if now >= next_tick:
                scheduler_beat(now=now)
                for name in enqueue_due(last_run, now=now):
                    self.stdout.write(f"enqueued {name}")
                next_tick = now + dt.timedelta(seconds=tick)
            self._seal()
            if options["once"]:
                return
            stop.wait(
                min(seal_every, max(next_tick - timezone.now(), dt.timedelta(0))).total_seconds()
            )

    def _seal(self) -> None:
        try:
            seal_pending()
        except Exception:
            # Sealing is retried on the next tick; a lag shows on /healthz/background.
            logger.exception("Sealing the audit trail failed; retrying on the next tick")
