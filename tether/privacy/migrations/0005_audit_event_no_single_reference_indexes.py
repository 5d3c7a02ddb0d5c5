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

COLUMNS = ("actor_id", "organization_id", "patient_id")


def _index_name(schema_editor, table: str, column: str) -> str:
    # The name Django gave the foreign key's index when it created the column.
    return schema_editor._create_index_name(table, [column], suffix="")


def drop_indexes(apps, schema_editor):
    table = apps.get_model("privacy", "AuditEvent")._meta.db_table
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    for column in COLUMNS:
        name = schema_editor.quote_name(_index_name(schema_editor, table, column))
        schema_editor.execute(f"DROP INDEX{concurrently} IF EXISTS {name}")


def create_indexes(apps, schema_editor):
    table = apps.get_model("privacy", "AuditEvent")._meta.db_table
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    for column in COLUMNS:
        name = schema_editor.quote_name(_index_name(schema_editor, table, column))
        schema_editor.execute(
            f"CREATE INDEX{concurrently} IF NOT EXISTS {name} "
            f"ON {schema_editor.quote_name(table)} ({schema_editor.quote_name(column)})"
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
                    name="actor",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="auditevent",
                    name="organization",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="organizations.organization",
                    ),
                ),
                migrations.AlterField(
                    model_name="auditevent",
                    name="patient",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="patients.patient",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_indexes, create_indexes, atomic=False),
            ],
        ),
    ]
