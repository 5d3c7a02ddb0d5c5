"""The audit event's single-column indexes of its three references (organization, actor,
patient) dropped: the (reference, occurred_at) indexes serve a look-up by the reference
alone, and each event wrote three index entries more than it needed (a list page writes
sixty events: docs/BENCHMARKS.md, "Pages, twelfth pass").

The foreign keys stay as they are. Django's own AlterField would drop and add each
constraint again, checking every audit row under a lock that holds back every page's
audit insert; this drops only the indexes (CONCURRENTLY on PostgreSQL, so nothing waits)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (field, the model it refers to): each field's column is ``<field>_id``.
REFERENCES = (
    ("actor", settings.AUTH_USER_MODEL),
    ("organization", "organizations.organization"),
    ("patient", "patients.patient"),
)


def _each_index(apps, schema_editor, statement: str) -> None:
    """Run ``statement`` for each reference's single-column index (``{concurrently}``,
    ``{name}``, ``{table}``, ``{column}``), as Django named it when it made the column."""
    table = apps.get_model("privacy", "AuditEvent")._meta.db_table
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    quote = schema_editor.quote_name
    for field, _ in REFERENCES:
        column = f"{field}_id"
        name = schema_editor._create_index_name(table, [column], suffix="")
        schema_editor.execute(
            statement.format(
                concurrently=concurrently,
                name=quote(name),
                table=quote(table),
                column=quote(column),
            )
        )


def drop_indexes(apps, schema_editor):
    _each_index(apps, schema_editor, "DROP INDEX{concurrently} IF EXISTS {name}")


def create_indexes(apps, schema_editor):
    _each_index(
        apps,
        schema_editor,
        "CREATE INDEX{concurrently} IF NOT EXISTS {name} ON {table} ({column})",
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("organizations", "0006_program_spanish"),
        ("patients", "0003_discharge_reasons_aftercare_and_step_reasons"),
        ("privacy", "0004_audit_sealing"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name=field,
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=to,
                    ),
                )
                for field, to in REFERENCES
            ],
            database_operations=[
                migrations.RunPython(drop_indexes, create_indexes, atomic=False),
            ],
        ),
    ]
