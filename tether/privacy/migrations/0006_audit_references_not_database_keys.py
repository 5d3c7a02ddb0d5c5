"""The audit trail's references are no longer checked by the database: the event's
organization, actor and patient, and the sealer's queue's event.

PostgreSQL checked each of them for each row at the commit (their constraints are
deferred): a list page's sixty events were 240 look-ups, each taking a KEY SHARE lock,
2.5-3 ms of every list page's view (docs/BENCHMARKS.md, "Pages, fourteenth pass"). The
ids an event names are those of the rows its writer has just read through the gate; a
deletion of a person, patient or organization the trail names is still refused, by
Django (``on_delete=PROTECT``); and what makes the trail trustworthy, its append-only
triggers and its hash chain, is unchanged.

PostgreSQL only: dropping a constraint is a change to the catalog, no row is read.
SQLite (the demo) keeps its constraints: Django would rebuild the table to drop them, and
a rebuild loses the append-only triggers (migration 0002)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (model, field, the model it refers to)
REFERENCES = (
    ("auditevent", "actor", settings.AUTH_USER_MODEL),
    ("auditevent", "organization", "organizations.organization"),
    ("auditevent", "patient", "patients.patient"),
    ("auditpending", "event", "privacy.auditevent"),
)


def _constraints(apps, schema_editor):
    """(model, field, the constraint's name) of each reference's foreign key, as the
    database names it."""
    for model_name, field_name, _ in REFERENCES:
        model = apps.get_model("privacy", model_name)
        column = model._meta.get_field(field_name).column
        for name in schema_editor._constraint_names(model, [column], foreign_key=True):
            yield model, field_name, name


def drop_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, _, name in list(_constraints(apps, schema_editor)):
        schema_editor.execute(
            schema_editor.sql_delete_fk
            % {
                "table": schema_editor.quote_name(model._meta.db_table),
                "name": schema_editor.quote_name(name),
            }
        )


def add_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, field_name, _ in REFERENCES:
        model = apps.get_model("privacy", model_name)
        field = model._meta.get_field(field_name)
        if schema_editor._constraint_names(model, [field.column], foreign_key=True):
            continue
        schema_editor.execute(
            schema_editor._create_fk_sql(model, field, "_fk_%(to_table)s_%(to_column)s")
        )


def _reference(field_name: str, to: str) -> models.Field:
    if field_name == "event":
        return models.OneToOneField(
            db_constraint=False,
            on_delete=django.db.models.deletion.CASCADE,
            primary_key=True,
            related_name="+",
            serialize=False,
            to=to,
        )
    return models.ForeignKey(
        db_constraint=False,
        db_index=False,
        null=True,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to=to,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0006_program_spanish"),
        ("patients", "0003_discharge_reasons_aftercare_and_step_reasons"),
        ("privacy", "0005_audit_event_no_single_reference_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name=model_name,
                    name=field_name,
                    field=_reference(field_name, to),
                )
                for model_name, field_name, to in REFERENCES
            ],
            database_operations=[
                migrations.RunPython(drop_constraints, add_constraints),
            ],
        ),
    ]
