"""Re-encrypt every encrypted value under the newest key in TETHER_FIELD_KEYS.

Usage, after putting a new key first in the ring (older keys after it)::

    python manage.py rotate_keys --dry-run   # what would change, per column and key
    python manage.py rotate_keys             # do it, with a progress bar on stderr

It finds every ``EncryptedTextField`` through the app registry and only touches
values that are not under the newest key yet, in primary-key batches, one
transaction per batch. An interrupted run loses at most the batch in progress;
running it again carries on from there. Each row is written only if its
ciphertext is still what was read (compare-and-swap), so a concurrent edit is
never overwritten with older text.

Before changing anything it checks that every key still in use is in the ring;
if one is missing it stops and changes nothing. Once a run reports 0 rows, the
older keys can be removed from the ring.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.db import models, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Cast
from django.db.models.lookups import Exact

from tether.fieldkeys import keycheck
from tether.lib import fields as encrypted
from tether.lib.crypto import DecryptionError, KeyRing, key_id_of, key_ring

_SAMPLE = 20


def _raw_name(f: encrypted.EncryptedTextField) -> str:
    return f"_ciphertext_{f.attname}"


def _raw(f: encrypted.EncryptedTextField) -> Cast:
    # Casting to a plain TextField reads the stored ciphertext without decrypting it.
    return Cast(F(f.attname), output_field=models.TextField())


@dataclass
class _Column:
    model: type[models.Model]
    model_field: encrypted.EncryptedTextField
    by_key: Counter[str] = field(default_factory=Counter)
    unknown: set[str] = field(default_factory=set)

    @property
    def label(self) -> str:
        return f"{self.model._meta.db_table}.{self.model_field.column}"


def _with_ciphertext(
    model: type[models.Model], fields: list[encrypted.EncryptedTextField]
) -> QuerySet[models.Model]:
    queryset: QuerySet[models.Model] = model._base_manager.annotate(
        **{_raw_name(f): _raw(f) for f in fields}
    )
    return queryset


def _stale(ring: KeyRing, fields: list[encrypted.EncryptedTextField]) -> Q:
    condition = Q()
    for f in fields:
        name = _raw_name(f)
        condition |= Q(**{f"{name}__isnull": False}) & ~Q(
            **{f"{name}__startswith": ring.current_prefix}
        )
    return condition


class _Progress:
    """A plain text progress bar: redrawn in place on a terminal, a line per 10% otherwise."""

    def __init__(self, total: int, stream: OutputWrapper, width: int = 30) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream
        self.width = width
        self.tty = stream.isatty()
        self._last_tenth = -1

    def advance(self, rows: int, label: str) -> None:
        self.done += rows
        fraction = min(self.done / self.total, 1.0)
        filled = int(self.width * fraction)
        bar = "#" * filled + "." * (self.width - filled)
        line = f"[{bar}] {fraction:4.0%}  {self.done}/{self.total} rows  {label}"
        if self.tty:
            self.stream.write("\r" + line, ending="")
            self.stream.flush()
        elif int(fraction * 10) != self._last_tenth:
            self._last_tenth = int(fraction * 10)
            self.stream.write(line)

    def finish(self) -> None:
        if self.tty:
            self.stream.write("")


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field value under the newest key (resumable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would change; change nothing."
        )
        parser.add_argument(
            "--batch-size", type=int, default=500, help="Rows per transaction (default 500)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ring = key_ring()
        batch_size: int = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        newest = ring.primary.key_id
        targets = encrypted.encrypted_fields()
        if not targets:
            self.stdout.write(
                f"No model has encrypted fields yet: 0 rows to re-encrypt (key {newest})."
            )
            return

        columns, rows_by_model = self._survey(ring, targets)
        self._refuse_missing_keys(ring, columns)
        # Each key of the ring must be the one that wrote the data under its id (key check
        # values, tether/fieldkeys); the new (front) key is registered before it is used.
        try:
            keycheck.verify_and_register()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        total_rows = sum(rows_by_model.values())
        total_values = sum(sum(column.by_key.values()) for column in columns)
        for column in columns:
            if column.by_key:
                counts = ", ".join(f"{n} under {k}" for k, n in sorted(column.by_key.items()))
                self.stdout.write(f"{column.label}: {counts}")

        if options["dry_run"]:
            self.stdout.write(
                f"Dry run: {total_rows} rows ({total_values} values) would be re-encrypted "
                f"under key {newest}. Nothing was changed."
            )
            return
        if total_rows == 0:
            self.stdout.write(
                f"0 rows to re-encrypt: every encrypted value is already under key {newest}."
            )
            return

        progress = _Progress(total_rows, self.stderr)
        rewritten = skipped = 0
        try:
            for model, fields in targets:
                if rows_by_model.get(model._meta.label):
                    done, raced = self._rotate(ring, model, fields, batch_size, progress)
                    rewritten += done
                    skipped += raced
        finally:
            progress.finish()
        message = f"Re-encrypted {rewritten} rows under key {newest}."
        if skipped:
            message += f" {skipped} rows changed while this ran and were already current."
        self.stdout.write(self.style.SUCCESS(message))

    def _survey(
        self,
        ring: KeyRing,
        targets: list[tuple[type[models.Model], list[encrypted.EncryptedTextField]]],
    ) -> tuple[list[_Column], dict[str, int]]:
        """Count stale values per column and key, and find key ids the ring lacks."""
        columns: list[_Column] = []
        rows_by_model: dict[str, int] = {}
        for model, fields in targets:
            queryset = _with_ciphertext(model, fields)
            rows_by_model[model._meta.label] = queryset.filter(_stale(ring, fields)).count()
            for f in fields:
                column = _Column(model, f)
                name = _raw_name(f)
                for key_id in ring.key_ids[1:]:
                    count = queryset.filter(
                        **{f"{name}__startswith": ring.prefix_for(key_id)}
                    ).count()
                    if count:
                        column.by_key[key_id] = count
                known = Q()
                for key_id in ring.key_ids:
                    known |= Q(**{f"{name}__startswith": ring.prefix_for(key_id)})
                strays = queryset.filter(**{f"{name}__isnull": False}).exclude(known)
                stray_count = strays.count()
                if stray_count:
                    column.by_key["(unknown)"] = stray_count
                    for token in strays.values_list(name, flat=True)[:_SAMPLE]:
                        try:
                            column.unknown.add(repr(key_id_of(token)))
                        except DecryptionError:
                            column.unknown.add("(not an encrypted value)")
                columns.append(column)
        return columns, rows_by_model

    def _refuse_missing_keys(self, ring: KeyRing, columns: list[_Column]) -> None:
        problems = [
            f"{column.label}: {column.by_key['(unknown)']} values under "
            f"{', '.join(sorted(column.unknown))}"
            for column in columns
            if column.unknown
        ]
        if problems:
            raise CommandError(
                "Some encrypted values are under a key that is not in TETHER_FIELD_KEYS, so they "
                "cannot be re-encrypted:\n  "
                + "\n  ".join(problems)
                + "\nAdd the missing keys to the ring after the newest one (newest first) and run "
                "rotate_keys again. Nothing was changed."
            )

    def _rotate(
        self,
        ring: KeyRing,
        model: type[models.Model],
        fields: list[encrypted.EncryptedTextField],
        batch_size: int,
        progress: _Progress,
    ) -> tuple[int, int]:
        manager = model._base_manager
        stale = _with_ciphertext(model, fields).filter(_stale(ring, fields))
        names = [_raw_name(f) for f in fields]
        rewritten = raced = 0
        last_pk: Any = None
        while True:
            with transaction.atomic():
                batch = stale if last_pk is None else stale.filter(pk__gt=last_pk)
                rows = list(
                    batch.select_for_update(no_key=True)
                    .order_by("pk")
                    .values_list("pk", *names)[:batch_size]
                )
                if not rows:
                    return rewritten, raced
                for pk, *tokens in rows:
                    changes: dict[str, str] = {}
                    unchanged: list[Exact] = []
                    for f, token in zip(fields, tokens, strict=True):
                        if token is None or ring.is_current(token):
                            continue
                        try:
                            changes[f.name] = ring.decrypt(token, context=f.context)
                        except DecryptionError as exc:
                            raise CommandError(
                                f"Row pk={pk} of {model._meta.db_table}.{f.column} cannot be "
                                f"decrypted: {exc}\nThe batch in progress was rolled back; rows "
                                "before it are under the new key. Restore or repair that row "
                                "(it may have been tampered with) and run rotate_keys again."
                            ) from exc
                        unchanged.append(Exact(_raw(f), token))
                    # Written through the field, so it is encrypted under the newest key.
                    if changes and manager.filter(*unchanged, pk=pk).update(**changes):
                        rewritten += 1
                    else:
                        raced += 1
                last_pk = rows[-1][0]
            progress.advance(len(rows), model._meta.label)
