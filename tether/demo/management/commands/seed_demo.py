"""Build the synthetic demo clinic, Riverbend Behavioral Health, into the current database.

Everyone in it is invented. It runs only where demo accounts belong (DEBUG or
TETHER_DEMO on, or --force), because every demo login shares one public password.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from tether.demo import roster
from tether.demo.context import DemoContext
from tether.demo.logins import DEMO_PASSWORD, login_table
from tether.demo.steps import STEPS
from tether.demo.wipe import WipeRefused, organization_wipe
from tether.organizations.models import Organization


class Command(BaseCommand):
    help = (
        "Build the synthetic demo clinic (about 30 invented patients, 8 weeks of history) "
        "and print its logins. Runs only with DEBUG or TETHER_DEMO on, or with --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo organization and everything in it first, then build it again "
            "with fresh dates.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though neither DEBUG nor TETHER_DEMO is on.",
        )

    def handle(self, *args: Any, reset: bool, force: bool, **options: Any) -> None:
        if not (settings.DEBUG or getattr(settings, "TETHER_DEMO", False) or force):
            raise CommandError(
                "Refusing to create demo accounts: they all share a public password. "
                "Run with DEBUG=1 or TETHER_DEMO=1 (a demo database), or pass --force."
            )
        existing = Organization.objects.filter(slug=roster.ORGANIZATION_SLUG).first()
        if existing is not None and not reset:
            self.stdout.write(
                f"The demo clinic is already in this database (built {existing.created_at:%Y-%m-%d})."
                " Nothing changed; run with --reset to build it again with fresh dates."
            )
            self.stdout.write("")
            self.stdout.write(login_table(settings.SITE_URL))
            return

        started = time.monotonic()
        ctx = DemoContext(now=timezone.now(), password_hash=make_password(DEMO_PASSWORD))
        try:
            with transaction.atomic():
                if existing is not None:
                    organization_wipe(organization=existing)
                for step in STEPS:
                    step.run(ctx)
        except WipeRefused as refused:
            raise CommandError(
                f"{refused} Nothing was changed. The audit trail is append-only: on PostgreSQL "
                "only a superuser role may reset a demo that has been used. Otherwise drop the "
                "database (or delete var/tether.sqlite3), run migrate, then seed_demo."
            ) from refused
        elapsed = time.monotonic() - started

        made = ", ".join(f"{count} {what}" for what, count in ctx.counts.items())
        self.stdout.write(
            self.style.SUCCESS(f"Built {roster.ORGANIZATION_NAME} in {elapsed:.1f} s: {made}.")
        )
        if settings.TETHER_STAFF_MFA_REQUIRED:
            self.stdout.write(
                "Staff two-step sign-in is required here (TETHER_STAFF_MFA_REQUIRED): staff "
                "logins will be asked to set up an authenticator app first."
            )
        self.stdout.write("")
        self.stdout.write(login_table(settings.SITE_URL))
