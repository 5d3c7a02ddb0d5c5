from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from tether.checkins.sync import sync_instruments


class Command(BaseCommand):
    help = "Load the instrument definitions in tether/checkins/instruments/ into the database."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            changes = sync_instruments()
        for line in changes or ["instruments already up to date"]:
            self.stdout.write(line)
