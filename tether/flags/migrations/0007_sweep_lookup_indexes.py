"""Indexes for the sweep's lookups, built without locking writes on PostgreSQL.

- ``flag_rule_patient_raised`` on ``flags_flag (rule_id, patient_id, raised_at)``: every
  rule's "an open or recent flag of this rule for this patient" and "flagged since this
  event or score" (``rules._flagged_since``), per patient and rule.
- ``checkins_response_episode_instrument_submitted`` on ``checkins_response
  (episode_id, instrument_id, submitted_at)``: the PHQ-9/GAD-7 first/latest scores and
  the daily items per episode. Raw SQL: it is not part of the checkins models' state
  (only this migration creates and drops it).

``CREATE INDEX CONCURRENTLY`` cannot run in a transaction, hence ``atomic = False``. On
SQLite (the simulator, scratch runs) a plain ``CREATE INDEX``.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

INDEXES = (
    ("flag_rule_patient_raised", "flags_flag", "rule_id, patient_id, raised_at"),
    (
        "checkins_response_episode_instrument_submitted",
        "checkins_response",
        "episode_id, instrument_id, submitted_at",
    ),
)


def _drop_if_invalid(schema_editor: Any, name: str, concurrently: str) -> None:
    """A ``CREATE INDEX CONCURRENTLY`` that failed half-way (cancelled, a deadlock) leaves
    an invalid index of that name, which ``IF NOT EXISTS`` would keep and the planner
    would never use: drop it so that the migration run again builds it (as 0008 does)."""
    if schema_editor.connection.vendor != "postgresql":
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
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    for name, table, columns in INDEXES:
        _drop_if_invalid(schema_editor, name, concurrently)
        schema_editor.execute(
            f"CREATE INDEX {concurrently}IF NOT EXISTS {name} ON {table} ({columns})"
        )


def drop(apps: Any, schema_editor: Any) -> None:
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    for name, _table, _columns in INDEXES:
        schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("flags", "0006_combined_rule_defaults"),
        ("checkins", "0003_response_record_category"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="flag",
                    index=models.Index(
                        fields=["rule", "patient", "raised_at"], name="flag_rule_patient_raised"
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(create, drop)],
        ),
    ]
