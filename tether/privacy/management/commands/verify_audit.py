"""``manage.py verify_audit``: prove the audit trail has not been altered.

Walks every organization's chain in sequence order (streaming, flat memory),
recomputes each row's hash and checks the links, the sequence numbers and the
chain head; then checks every event that the sealer has not chained yet against its
entry hash, and warns when sealing is behind (TETHER_AUDIT_SEAL_LAG_SECONDS). It never
seals anything itself. Exits 0 with a summary when every chain is intact; otherwise names the
first bad row of each broken chain (organization, sequence, id, and whether a row
was changed, deleted or inserted) and exits 1. Nothing is ever repaired.

``--against FILE`` also checks anchors taken earlier with ``audit_anchor`` (kept
outside the database): each anchored row must still be in the chain with the
anchored hash, which catches a tail that was truncated or rewritten wholesale.
``--write-anchor FILE`` writes the verified chain heads as a new anchor file.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tether.organizations.models import Organization
from tether.privacy import chain
from tether.privacy.models import SYSTEM_CHAIN


def chain_label(chain_key: int, slugs: dict[int, str]) -> str:
    if chain_key == SYSTEM_CHAIN:
        return "system chain (no organization)"
    slug = slugs.get(chain_key)
    return f"{slug} (organization {chain_key})" if slug else f"organization {chain_key}"


class Command(BaseCommand):
    help = "Verify the audit trail's hash chains; exit 1 and name the first bad row if not intact."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--organization",
            help="Verify only this organization's chain (its id or short name).",
        )
        parser.add_argument(
            "--against",
            metavar="FILE",
            help="Also check the anchors in FILE (written earlier by audit_anchor).",
        )
        parser.add_argument(
            "--write-anchor",
            metavar="FILE",
            help="After a successful verification, write the chain heads to FILE as anchors.",
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=5000,
            help="Rows fetched from the database at a time (default 5000).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        keys = chain.chain_keys()
        if options["organization"]:
            organization = self._organization(options["organization"])
            keys = [organization.pk]
        slugs = dict(Organization.objects.filter(pk__in=keys).values_list("pk", "slug"))

        reports: list[chain.ChainReport] = []
        failures: list[str] = []
        for key in keys:
            report = chain.verify_chain(key, chunk_size=options["chunk_size"])
            reports.append(report)
            label = chain_label(key, slugs)
            if report.problem is None:
                self.stdout.write(
                    f"{label}: {report.events} sealed events intact, head sequence "
                    f"{report.head_sequence}, head hash {report.head_hash}"
                )
            else:
                failures.append(self._describe(label, report.problem))
            if report.unsealed:
                self.stdout.write(self._unsealed(label, report))
            failures.extend(
                f"BROKEN {label}: {problem.kind}: {problem.detail}"
                for problem in report.unsealed_problems
            )

        if options["against"]:
            failures.extend(
                self._check_anchors(
                    Path(options["against"]), keys, slugs, only=bool(options["organization"])
                )
            )

        total = sum(report.events + report.unsealed for report in reports)
        elapsed = time.monotonic() - started
        if failures:
            for failure in failures:
                self.stderr.write(failure)
            raise CommandError(
                f"the audit trail is NOT intact: {len(failures)} problem(s); first: {failures[0]}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"OK: {total} events in {len(reports)} chain(s) verified in {elapsed:.1f} s."
            )
        )
        if options["write_anchor"]:
            anchors = [
                chain.Anchor(
                    r.chain_key, r.organization_id, r.head_sequence, r.head_hash, r.head_occurred_at
                )
                for r in reports
                if r.head_sequence > 0
            ]
            document = chain.anchors_document(anchors, created_at=timezone.now())
            Path(options["write_anchor"]).write_text(json.dumps(document, indent=2) + "\n")
            self.stdout.write(f"Anchors written to {options['write_anchor']}.")

    def _organization(self, value: str) -> Organization:
        lookup = {"pk": int(value)} if value.isdigit() else {"slug": value}
        try:
            return Organization.objects.get(**lookup)
        except Organization.DoesNotExist:
            raise CommandError(f"no organization {value!r}") from None

    @staticmethod
    def _unsealed(label: str, report: chain.ChainReport) -> str:
        oldest = report.oldest_unsealed_at
        waited = (timezone.now() - oldest).total_seconds() if oldest is not None else 0.0
        limit = settings.TETHER_AUDIT_SEAL_LAG_SECONDS
        line = (
            f"{label}: {report.unsealed} event(s) not sealed yet, checked against their "
            f"entry hash; the oldest waited {waited:.0f} s"
        )
        if waited > limit:
            line += f" (WARNING: sealing is behind, more than {limit} s; is run_scheduler running?)"
        return line

    @staticmethod
    def _describe(label: str, problem: chain.Problem) -> str:
        row = f"sequence {problem.sequence}"
        if problem.event_id is not None:
            row += f" (id {problem.event_id})"
        return f"BROKEN {label}: first bad row {row}: {problem.kind}: {problem.detail}"

    def _check_anchors(
        self, path: Path, keys: list[int], slugs: dict[int, str], *, only: bool
    ) -> list[str]:
        try:
            document = json.loads(path.read_text())
            anchors = chain.parse_anchors(document)
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read anchors from {path}: {exc}") from exc
        failures = []
        checked = 0
        for anchor in anchors:
            if anchor.chain_key not in keys:
                if only:
                    continue  # --organization: only that chain's anchor matters
                failures.append(
                    self._describe(
                        chain_label(anchor.chain_key, slugs),
                        chain.Problem(
                            "deleted",
                            anchor.sequence,
                            None,
                            "the anchored chain no longer exists: its events were removed",
                        ),
                    )
                )
                continue
            problem = chain.check_anchor(anchor)
            checked += 1
            if problem is not None:
                failures.append(self._describe(chain_label(anchor.chain_key, slugs), problem))
        if not failures:
            self.stdout.write(f"{checked} anchor(s) from {path} found intact in the chain.")
        return failures
