from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tether.checkins.services import responses_close_expired


class Command(BaseCommand):
    help = "Close check-in drafts whose window has passed (kept as incomplete, never scored)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"closed {responses_close_expired()} expired check-in drafts")
