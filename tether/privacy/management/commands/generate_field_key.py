"""Print a new ``keyid:base64key`` entry for TETHER_FIELD_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tether.lib.crypto import generate_key


class Command(BaseCommand):
    help = (
        "Print a new field encryption key entry (keyid:base64key). Put it first in "
        "TETHER_FIELD_KEYS, keep the older keys after it, then run rotate_keys."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(generate_key().entry())
