"""``manage.py audit_anchor``: export the audit chain heads, to keep outside the database.

Prints (or writes to ``--output FILE``) one JSON document with each chain's
organization, last sequence number, head hash and time. Store it somewhere the
database's administrators cannot rewrite (another system, a write-once bucket, a
signed email to the privacy officer). Later, ``verify_audit --against FILE`` proves
the chain still contains those rows unchanged: a rewrite or a truncation of the tail
after the anchor is caught even if whoever did it recomputed every hash.

Run ``verify_audit --write-anchor FILE`` instead to anchor only a chain that was
verified in the same run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from tether.privacy import chain


class Command(BaseCommand):
    help = (
        "Print or export the audit chain heads (JSON) so they can be stored outside the database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", metavar="FILE", help="Write to FILE instead of stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        document = chain.anchors_document(chain.current_anchors(), created_at=timezone.now())
        text = json.dumps(document, indent=2) + "\n"
        if options["output"]:
            Path(options["output"]).write_text(text)
            self.stderr.write(
                f"{len(document['chains'])} chain head(s) written to {options['output']}."  # type: ignore[arg-type]
            )
        else:
            self.stdout.write(text, ending="")
