"""Is background work running? For cron or a monitoring agent: exit code 0 when it is,
1 when the scheduler or the worker has stopped (urgent requests are not escalated)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tether.crisis.health import background_health, database_unreachable
from tether.crisis.resilience import DATABASE_ERRORS


class Command(BaseCommand):
    help = (
        "Check that the scheduler and the task worker are running "
        "(exit 1 when urgent-request escalation has stopped)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="Print the details as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            health = background_health()
        except DATABASE_ERRORS:
            health = database_unreachable()
        details = health.as_dict()
        if options["json"]:
            self.stdout.write(json.dumps(details, indent=2))
        else:
            for key, value in details.items():
                if key != "status":
                    self.stdout.write(f"{key}: {value}")
        if not health.ok:
            raise CommandError(
                "degraded: " + ", ".join(health.problems) + " (urgent requests are not escalated)",
                returncode=1,
            )
        if options["json"]:
            return
        if not health.monitored:
            self.stdout.write("ok: tasks do not go through the database; nothing to watch")
        else:
            self.stdout.write("ok")
