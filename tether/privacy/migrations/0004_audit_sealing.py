"""Audit sealing: events are appended without a chain lock and sealed later.

Before this migration every event carried its own place in the chain (sequence,
previous_hash, row_hash) and every writer locked its organization's chain head until
its transaction committed. Now the place lives in ``AuditSeal``, written by the
sealer alone. The events already written keep their chain exactly as it was: each
gets a version-1 seal with its old sequence and hashes (copied, not recomputed), and
new events continue the same chain with version-2 seals.

The append-only triggers cover the new seal table too. On SQLite, removing columns
rebuilds privacy_auditevent, which drops its triggers: they are created again here.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


COPY_SQL = """
    INSERT INTO privacy_auditseal
        (event_id, chain_key, sequence, previous_hash, row_hash, version, sealed_at)
    SELECT id, chain_key, sequence, previous_hash, row_hash, 1, occurred_at
    FROM privacy_auditevent
"""


def copy_chain_into_seals(apps, schema_editor):
    schema_editor.execute(COPY_SQL)


_SQLITE_TRIGGER = """
    CREATE TRIGGER {name} BEFORE {operation} ON {table}
    WHEN coalesce(tether_audit_maintenance(), 0) = 0
    BEGIN
        SELECT RAISE(ABORT, 'the audit trail is append-only: {operation} on {table} refused');
    END
"""
SQLITE_TRIGGERS = {
    "privacy_auditevent_no_update": ("UPDATE", "privacy_auditevent"),
    "privacy_auditevent_no_delete": ("DELETE", "privacy_auditevent"),
    "privacy_auditseal_no_update": ("UPDATE", "privacy_auditseal"),
    "privacy_auditseal_no_delete": ("DELETE", "privacy_auditseal"),
}
POSTGRESQL_FORWARD = [
    """
    CREATE TRIGGER privacy_auditseal_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON privacy_auditseal
    FOR EACH STATEMENT EXECUTE FUNCTION tether_audit_refuse_change()
    """,
]
POSTGRESQL_BACKWARD = [
    "DROP TRIGGER IF EXISTS privacy_auditseal_append_only ON privacy_auditseal",
]


def protect_tables(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for statement in POSTGRESQL_FORWARD:
            schema_editor.execute(statement)
    elif vendor == "sqlite":
        for name, (operation, table) in SQLITE_TRIGGERS.items():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
            schema_editor.execute(_SQLITE_TRIGGER.format(name=name, operation=operation, table=table))


def unprotect_tables(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for statement in POSTGRESQL_BACKWARD:
            schema_editor.execute(statement)
    elif vendor == "sqlite":
        for name in ("privacy_auditseal_no_update", "privacy_auditseal_no_delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ('privacy', '0003_break_glass_reason_encrypted'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditPending',
            fields=[
                ('event', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='privacy.auditevent')),
                ('chain_key', models.PositiveBigIntegerField()),
            ],
        ),
        migrations.CreateModel(
            name='AuditSeal',
            fields=[
                ('event', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, primary_key=True, related_name='seal', serialize=False, to='privacy.auditevent')),
                ('chain_key', models.PositiveBigIntegerField()),
                ('sequence', models.PositiveBigIntegerField()),
                ('previous_hash', models.CharField(max_length=64)),
                ('row_hash', models.CharField(max_length=64)),
                ('version', models.PositiveSmallIntegerField(choices=[(1, 'tether-audit-v1'), (2, 'tether-audit-v2')])),
                ('sealed_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.RemoveConstraint(
            model_name='auditevent',
            name='auditevent_unique_chain_sequence',
        ),
        migrations.RemoveConstraint(
            model_name='auditevent',
            name='auditevent_sequence_positive',
        ),
        migrations.AddField(
            model_name='auditevent',
            name='entry_hash',
            field=models.CharField(max_length=64, null=True),
        ),
        migrations.AddIndex(
            model_name='auditpending',
            index=models.Index(fields=['chain_key', 'event'], name='privacy_aud_chain_k_c7adf6_idx'),
        ),
        migrations.AddConstraint(
            model_name='auditseal',
            constraint=models.UniqueConstraint(fields=('chain_key', 'sequence'), name='auditseal_unique_chain_sequence'),
        ),
        migrations.AddConstraint(
            model_name='auditseal',
            constraint=models.CheckConstraint(condition=models.Q(('sequence__gte', 1)), name='auditseal_sequence_positive'),
        ),
        migrations.RunPython(copy_chain_into_seals, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(
            model_name='auditevent',
            name='previous_hash',
        ),
        migrations.RemoveField(
            model_name='auditevent',
            name='row_hash',
        ),
        migrations.RemoveField(
            model_name='auditevent',
            name='sequence',
        ),
        migrations.RunPython(protect_tables, unprotect_tables, elidable=False),
    ]
