"""An index for "a patient's latest complete response to an instrument" (the caseload
board, docs/BENCHMARKS.md). Built CONCURRENTLY on PostgreSQL, so a large
checkins_response table is not locked against writes while it builds; a plain index
elsewhere (SQLite, the demo)."""

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
from django.db.migrations.operations import AddIndex


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    def database_forwards(self, app_label: str, schema_editor: Any, *args: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, *args)
        else:
            AddIndex.database_forwards(self, app_label, schema_editor, *args)

    def database_backwards(self, app_label: str, schema_editor: Any, *args: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, *args)
        else:
            AddIndex.database_backwards(self, app_label, schema_editor, *args)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("checkins", "0004_response_language"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="response",
            index=models.Index(
                condition=models.Q(("status", "complete")),
                fields=["patient", "instrument", "-submitted_at"],
                name="response_latest_by_instrument",
            ),
        ),
    ]
