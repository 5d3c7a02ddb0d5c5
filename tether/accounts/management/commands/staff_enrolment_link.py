"""Print a one-time set-up link for a staff member's authenticator app.

For the first program admin (nobody can make one for them in the app yet) and for
operations. The link is printed once; only its keyed hash is stored.

    python manage.py staff_enrolment_link USERNAME
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from tether.accounts import services
from tether.accounts.models import User


class Command(BaseCommand):
    help = "Print a one-time set-up link for a staff member's authenticator app."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username__iexact=options["username"], is_active=True).first()
        if user is None or not user.is_staff_member:
            raise CommandError("No active staff member with that username.")
        issued = services.enrolment_link_create(user=user, created_by=None)
        url = settings.SITE_URL.rstrip("/") + reverse("accounts:mfa_enrol", args=[issued.token])
        self.stdout.write(url)
        self.stderr.write(
            f"Works once, until {issued.link.expires_at:%Y-%m-%d %H:%M} UTC, for this "
            "account only, after signing in with its password."
        )
