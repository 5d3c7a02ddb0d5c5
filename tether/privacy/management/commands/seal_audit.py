"""``manage.py seal_audit``: seal every recorded audit event into its hash chain now.

``run_scheduler`` does this every ``TETHER_AUDIT_SEAL_SECONDS``; this command is for
cron-less maintenance, before a ``verify_audit --write-anchor``, and for tests.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tether.privacy.sealer import seal_pending


class Command(BaseCommand):
    help = "Seal every recorded audit event into its organization's hash chain."

    def handle(self, *args: Any, **options: Any) -> None:
        sealed = seal_pending()
        self.stdout.write(f"{sealed} audit event(s) sealed.")
