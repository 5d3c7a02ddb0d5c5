"""``manage.py flush``, able to empty the append-only audit tables.

Django's own flush (which the test suite also runs after every transactional test)
empties every table with one TRUNCATE (PostgreSQL) or DELETEs (SQLite); the audit
triggers refuse both. This command runs the same flush in audit maintenance mode
(tether/privacy/maintenance.py). On PostgreSQL that only works for a superuser, so
the application's own role still cannot empty the trail this way.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush

from tether.privacy.maintenance import audit_maintenance


class Command(flush.Command):
    help = (
        flush.Command.help
        + " Empties the audit trail too (audit maintenance mode: a superuser on PostgreSQL)."
    )

    def handle(self, **options: Any) -> None:
        with audit_maintenance(options["database"]):
            super().handle(**options)
