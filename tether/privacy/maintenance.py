"""Audit maintenance mode: the one way past the append-only triggers.

The triggers on the audit tables (migration ``0002_audit_append_only``) refuse
UPDATE, DELETE and TRUNCATE of ``privacy_auditevent`` (and DELETE and TRUNCATE of
``privacy_auditchainhead``) unless the connection is in maintenance mode:

- **PostgreSQL**: the session (or transaction) setting ``tether.audit_maintenance``
  is ``on`` *and* the current role is a superuser. Any role can set a custom
  setting, so the superuser check is what keeps the application's own role out:
  production never bypasses the triggers without a superuser's deliberate act.
- **SQLite**: the connection-local SQL function ``tether_audit_maintenance()``
  returns 1. Django registers it on every connection (returning 0); a connection
  without it (the ``sqlite3`` shell) fails closed with "no such function".
  SQLite has no permissions, so on SQLite the triggers stop mistakes, not people
  who can edit the file; production runs on PostgreSQL.

Who uses it: ``manage.py flush`` (which the test suite runs between transactional
tests) and tests that tamper with the trail on purpose to prove that
``verify_audit`` catches it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

SETTING = "tether.audit_maintenance"
SQLITE_FUNCTION = "tether_audit_maintenance"
_FLAG = "tether_audit_maintenance"


def register_sqlite_function(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """``connection_created`` receiver: give each SQLite connection the switch."""
    if connection.vendor != "sqlite":
        return

    def maintenance_on() -> int:
        return 1 if getattr(connection, _FLAG, False) else 0

    connection.connection.create_function(SQLITE_FUNCTION, 0, maintenance_on)


@contextmanager
def audit_maintenance(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Let this connection change or empty the audit tables inside the block.

    On PostgreSQL this only works for a superuser; for anyone else the triggers
    still refuse.
    """
    connection = connections[using]
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        local = connection.in_atomic_block
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'on', %s)", [SETTING, local])
        failed = False
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            # Inside a failed transaction nothing more can run; its rollback undoes
            # a transaction-local setting anyway.
            if not (failed and local):
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config(%s, 'off', %s)", [SETTING, local])
    elif connection.vendor == "sqlite":
        setattr(connection, _FLAG, True)
        try:
            yield
        finally:
            setattr(connection, _FLAG, False)
    else:
        yield
