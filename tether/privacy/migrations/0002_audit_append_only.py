"""The audit trail is append-only: the database itself refuses to change it.

PostgreSQL: statement triggers refuse UPDATE, DELETE and TRUNCATE of
privacy_auditevent, and DELETE and TRUNCATE of privacy_auditchainhead (whose rows
are moved forward by UPDATE, so UPDATE stays allowed there). The one way past them
is audit maintenance mode: the setting ``tether.audit_maintenance = on`` together
with a superuser role (see tether/privacy/maintenance.py and docs/PRIVACY.md).

SQLite: row triggers refuse UPDATE and DELETE (SQLite has no TRUNCATE), unless the
connection's ``tether_audit_maintenance()`` function says maintenance mode is on.

A later migration that rebuilds privacy_auditevent on SQLite (SQLite alters a table
by copying it) drops these triggers: it must create them again. The test
test_audit_append_only.py fails if they are missing.
"""

from django.db import migrations

POSTGRESQL_FORWARD = [
    """
    CREATE FUNCTION tether_audit_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF coalesce(current_setting('tether.audit_maintenance', true), '') = 'on'
           AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            RETURN NULL;
        END IF;
        -- (no percent signs here: this text goes through the driver's placeholders)
        RAISE EXCEPTION USING
            MESSAGE = 'the audit trail is append-only: ' || TG_OP || ' on '
                      || TG_TABLE_NAME || ' refused',
            ERRCODE = 'insufficient_privilege',
            HINT = 'Audit events are never changed or removed. See docs/PRIVACY.md.';
    END;
    $$
    """,
    """
    CREATE TRIGGER privacy_auditevent_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON privacy_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION tether_audit_refuse_change()
    """,
    """
    CREATE TRIGGER privacy_auditchainhead_keep
    BEFORE DELETE OR TRUNCATE ON privacy_auditchainhead
    FOR EACH STATEMENT EXECUTE FUNCTION tether_audit_refuse_change()
    """,
]
POSTGRESQL_BACKWARD = [
    "DROP TRIGGER IF EXISTS privacy_auditchainhead_keep ON privacy_auditchainhead",
    "DROP TRIGGER IF EXISTS privacy_auditevent_append_only ON privacy_auditevent",
    "DROP FUNCTION IF EXISTS tether_audit_refuse_change()",
]

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
    "privacy_auditchainhead_no_delete": ("DELETE", "privacy_auditchainhead"),
}
SQLITE_FORWARD = [
    _SQLITE_TRIGGER.format(name=name, operation=operation, table=table)
    for name, (operation, table) in SQLITE_TRIGGERS.items()
]
SQLITE_BACKWARD = [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": POSTGRESQL_FORWARD, "sqlite": SQLITE_FORWARD}.get(vendor, [])
    for statement in statements:
        schema_editor.execute(statement)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": POSTGRESQL_BACKWARD, "sqlite": SQLITE_BACKWARD}.get(vendor, [])
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_initial")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
