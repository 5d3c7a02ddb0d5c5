"""Run queued tasks (django-tasks-db's ``db_worker``), riding out database outages.

``db_worker`` exits with ``OperationalError`` the moment PostgreSQL is unreachable, and
a task it was running stays marked "running". This worker instead logs the outage,
waits with a bounded back-off (tether/crisis/resilience.py), puts the interrupted task
back on the queue when the database returns, and carries on. Same options as
``db_worker``; run it under a supervisor (deploy/systemd, docs/OPERATIONS.md).
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from tether.crisis.resilience import (
    DATABASE_ERRORS,
    Backoff,
    close_connections,
    describe,
    retry_or_fail,
)

logger = logging.getLogger("tether.background")


class ResilientWorker(Worker):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.backoff = Backoff(ceiling=10)
        self.interrupted: DBTaskResult[Any, Any] | None = None

    def run_task(self, db_task_result: DBTaskResult[Any, Any]) -> None:
        # Remembered until its outcome is stored: if storing it fails (the database
        # went away), the task is put back on the queue once the database returns.
        self.interrupted = db_task_result
        super().run_task(db_task_result)
        self.interrupted = None

    def run(self) -> None:
        outage_started: float | None = None
        while self.running:
            try:
                if outage_started is not None:
                    close_connections()
                    from django.db import connection

                    connection.ensure_connection()
                    logger.warning(
                        "database reachable again after %.1f s; worker resumes",
                        time.monotonic() - outage_started,
                    )
                    outage_started = None
                    self.backoff.reset()
                    if self.interrupted is not None:
                        retry_or_fail(
                            self.interrupted.pk, reason="its worker lost the database mid-task"
                        )
                        self.interrupted = None
                super().run()
                return
            except DATABASE_ERRORS as error:
                close_connections()
                if outage_started is None:
                    outage_started = time.monotonic()
                delay = self.backoff.next()
                logger.warning(
                    "database unreachable (%s); worker retries in %.0f s", describe(error), delay
                )
                self.startup_delay = False
                # A signal during the wait ends the process (Worker.shutdown).
                time.sleep(delay)


class Command(DbWorkerCommand):
    help = "Run queued tasks, waiting out database outages (db_worker, made resilient)."

    def handle(self, **options: Any) -> None:
        self.configure_logging(options["verbosity"])
        queue_names = options["queue_name"].split(",")
        exclude = options["exclude_queues"]
        worker = ResilientWorker(
            queue_names=queue_names,
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=exclude.split(",") if exclude else [],
        )
        if options["reload"] and not options["batch"]:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # only the child process handles signals
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
