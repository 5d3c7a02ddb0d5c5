"""A partial index of Part 2 check-ins by patient: whether a patient has any (the
caseload board's per-row audit category, ``shows_part2``) is then a few index entries
instead of the patient's year of self-report check-ins (docs/BENCHMARKS.md, "Pages,
sixth pass").

Built CONCURRENTLY on PostgreSQL, like checkins 0005 and 0006, so a large
checkins_response table is not locked against writes while it builds; a plain index on
SQLite, or inside a transaction. A concurrent build that fails leaves an invalid index
of this name: the migration then fails on the next run ("already exists") rather than
keep it; drop the index and run it again."""

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
        ("checkins", "0006_response_episode_completed_index"),
    ]

    operations = [
        AddIndexConcurrentlyWhenPossible(
            model_name="response",
            index=models.Index(
                condition=models.Q(("record_category", "part2")),
                fields=["patient"],
                name="response_part2_by_patient",
            ),
        ),
    ]
