"""An index of completed responses by episode and time (with the window), for the
program reports (docs/REPORTS.md "Speed"): an episode's first and last completed
response, and its days with a daily check-in in a period, read from the index alone.

Built CONCURRENTLY on PostgreSQL, like checkins 0005, so a large checkins_response table
is not locked against writes while it builds; a plain index on SQLite, or when the
migration runs inside a transaction (``scripts/bench_reports.py --migrate`` applies it
in a transaction it rolls back, where CONCURRENTLY is not allowed)."""

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
from django.db.migrations.operations import AddIndex


def _concurrently(schema_editor: Any) -> bool:
    connection = schema_editor.connection
    return connection.vendor == "postgresql" and not connection.in_atomic_block


class AddIndexConcurrentlyWhenPossible(AddIndexConcurrently):
    def database_forwards(self, app_label: str, schema_editor: Any, *args: Any) -> None:
        if _concurrently(schema_editor):
            super().database_forwards(app_label, schema_editor, *args)
        else:
            AddIndex.database_forwards(self, app_label, schema_editor, *args)

    def database_backwards(self, app_label: str, schema_editor: Any, *args: Any) -> None:
        if _concurrently(schema_editor):
            super().database_backwards(app_label, schema_editor, *args)
        else:
            AddIndex.database_backwards(self, app_label, schema_editor, *args)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("checkins", "0005_speed_indexes"),
        ("organizations", "0006_program_spanish"),
        ("patients", "0003_discharge_reasons_aftercare_and_step_reasons"),
    ]

    operations = [
        AddIndexConcurrentlyWhenPossible(
            model_name="response",
            index=models.Index(
                condition=models.Q(("status", "complete")),
                fields=["episode", "submitted_at", "window"],
                name="response_episode_completed",
            ),
        ),
    ]
