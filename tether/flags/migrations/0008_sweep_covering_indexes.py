"""Covering indexes for the sweep, so that at 100,000 patients with a year of history its
reads come from indexes alone instead of a year of check-in and answer pages
(docs/BENCHMARKS.md, "Flag sweep"):

- ``response_daily_window`` on ``checkins_response (instrument_id, submitted_at)
  INCLUDE (episode_id, id) WHERE status = 'complete'``: the daily-item pass's check-ins
  of the last weeks for every episode (``rules._daily_item_rows``), one range of the
  index instead of a scan of the whole table.
- ``answer_item_value`` on ``checkins_answer (response_id, item_code) INCLUDE (value)``:
  the answers of those check-ins without reading the answers' rows.
- ``response_episode_instrument_scores`` on ``checkins_response (episode_id,
  instrument_id, submitted_at) INCLUDE (id, status, total)``: an episode's first, latest
  and highest PHQ-9/GAD-7 scores (the measure rules and their candidates). It replaces
  ``checkins_response_episode_instrument_submitted`` (flags 0007), the same key without
  the included columns, which it serves for every other reader too.

Raw SQL like 0007: not part of any model's state. ``CREATE INDEX CONCURRENTLY`` (and
``DROP INDEX CONCURRENTLY``) cannot run in a transaction, hence ``atomic = False``; on
SQLite (the simulator, scratch runs), or inside a transaction, plain statements and
plain indexes (SQLite has no INCLUDE: the key columns alone).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

INDEXES = (
    (
        "response_daily_window",
        "checkins_response",
        "instrument_id, submitted_at",
        "episode_id, id",
        "status = 'complete'",
    ),
    ("answer_item_value", "checkins_answer", "response_id, item_code", "value", ""),
    (
        "response_episode_instrument_scores",
        "checkins_response",
        "episode_id, instrument_id, submitted_at",
        "id, status, total",
        "",
    ),
)
REPLACED = ("checkins_response_episode_instrument_submitted", "episode_id, instrument_id, submitted_at")


def _postgres(schema_editor: Any) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def _concurrently(schema_editor: Any) -> str:
    connection = schema_editor.connection
    return "CONCURRENTLY " if _postgres(schema_editor) and not connection.in_atomic_block else ""


def _drop_if_invalid(schema_editor: Any, name: str, concurrently: str) -> None:
    """A ``CREATE INDEX CONCURRENTLY`` that failed half-way (cancelled, a deadlock)
    leaves an invalid index of that name, which ``IF NOT EXISTS`` would keep: drop it so
    that the migration run again builds it."""
    if not _postgres(schema_editor):
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
            "WHERE c.relname = %s AND NOT i.indisvalid",
            [name],
        )
        invalid = cursor.fetchone() is not None
    if invalid:
        schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {name}")


def create(apps: Any, schema_editor: Any) -> None:
    concurrently = _concurrently(schema_editor)
    for name, table, columns, include, where in INDEXES:
        _drop_if_invalid(schema_editor, name, concurrently)
        sql = f"CREATE INDEX {concurrently}IF NOT EXISTS {name} ON {table} ({columns})"
        if include and _postgres(schema_editor):
            sql += f" INCLUDE ({include})"
        if where:
            sql += f" WHERE {where}"
        schema_editor.execute(sql)
    schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {REPLACED[0]}")


def drop(apps: Any, schema_editor: Any) -> None:
    concurrently = _concurrently(schema_editor)
    schema_editor.execute(
        f"CREATE INDEX {concurrently}IF NOT EXISTS {REPLACED[0]} "
        f"ON checkins_response ({REPLACED[1]})"
    )
    for name, *_rest in INDEXES:
        schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("flags", "0007_sweep_lookup_indexes"),
        ("checkins", "0006_response_episode_completed_index"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
