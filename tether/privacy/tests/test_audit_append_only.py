"""The database refuses to change or remove audit events and their seals (triggers from
migrations 0002 and 0004)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.core.management.commands.flush import Command as DjangoFlush
from django.db import DatabaseError, connection, transaction

from tether.privacy import audit
from tether.privacy.maintenance import audit_maintenance
from tether.privacy.models import AuditChainHead, AuditEvent, AuditSeal, Purpose
from tether.privacy.policy import Action, Category
from tether.privacy.sealer import seal_pending

POSTGRESQL_ONLY = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL only: SQLite has no TRUNCATE and no roles; run with DATABASE_URL=postgres://…",
)


@pytest.fixture
def event(cast):
    recorded = audit.record(
        request=None,
        actor=cast.assigned_clinician,
        patient=cast.patient.patient,
        action=Action.VIEW,
        category=Category.GENERAL,
        purpose=Purpose.TREATMENT,
        outcome=AuditEvent.Outcome.ALLOWED,
    )
    seal_pending()
    return recorded


def _refused(sql: str, params=()) -> str:
    with (
        pytest.raises(DatabaseError) as raised,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        if connection.vendor == "postgresql":
            # Run the deferred foreign-key checks of this test's own inserts now:
            # PostgreSQL refuses to TRUNCATE a table with pending trigger events.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(sql, params)
    return str(raised.value)


def test_it_refuses_a_raw_update(event):
    message = _refused("UPDATE privacy_auditevent SET outcome = 'denied' WHERE id = %s", [event.pk])
    assert "append-only" in message
    assert AuditEvent.objects.get(pk=event.pk).outcome == "allowed"


def test_it_refuses_a_raw_delete(event):
    assert "append-only" in _refused("DELETE FROM privacy_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_it_refuses_an_orm_update_and_delete_too(event):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(actor_role="privacy_officer")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.filter(pk=event.pk, actor_role="clinician").exists()


def test_it_refuses_to_change_or_remove_a_seal(event):
    update = "UPDATE privacy_auditseal SET row_hash = 'x' WHERE event_id = %s"
    assert "append-only" in _refused(update, [event.pk])
    delete = "DELETE FROM privacy_auditseal WHERE event_id = %s"
    assert "append-only" in _refused(delete, [event.pk])
    assert AuditSeal.objects.filter(event_id=event.pk).exclude(row_hash="x").exists()


@POSTGRESQL_ONLY
def test_it_refuses_a_truncate_of_the_seals(event):
    assert "append-only" in _refused("TRUNCATE privacy_auditseal CASCADE")


@POSTGRESQL_ONLY
def test_it_refuses_a_raw_truncate(event):
    assert "append-only" in _refused("TRUNCATE privacy_auditevent CASCADE")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_it_keeps_the_chain_heads_but_lets_them_move(event):
    assert "append-only" in _refused("DELETE FROM privacy_auditchainhead")
    # Moving the head forward is how the sealer seals: UPDATE stays allowed.
    assert AuditChainHead.objects.filter(pk=event.chain_key).update(last_occurred_at=None) == 1


@POSTGRESQL_ONLY
def test_it_refuses_a_truncate_of_the_chain_heads(event):
    assert "append-only" in _refused("TRUNCATE privacy_auditchainhead")


@POSTGRESQL_ONLY
def test_it_keeps_maintenance_mode_from_anyone_but_a_superuser(event):
    with connection.cursor() as cursor:
        cursor.execute("CREATE ROLE tether_test_app NOSUPERUSER")
        cursor.execute("GRANT SELECT, UPDATE, DELETE ON privacy_auditevent TO tether_test_app")
        cursor.execute("SET LOCAL ROLE tether_test_app")
        cursor.execute("SELECT set_config('tether.audit_maintenance', 'on', true)")
    message = _refused("UPDATE privacy_auditevent SET outcome = 'denied' WHERE id = %s", [event.pk])
    assert "append-only" in message
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")


def test_it_lets_maintenance_mode_through(event):
    with audit_maintenance():
        AuditEvent.objects.filter(pk=event.pk).update(outcome="denied")
    assert AuditEvent.objects.get(pk=event.pk).outcome == "denied"
    # And only inside the block.
    assert "append-only" in _refused("DELETE FROM privacy_auditevent")


def test_it_has_its_triggers_after_migrating(db):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN "
                "('privacy_auditevent'::regclass, 'privacy_auditchainhead'::regclass,"
                " 'privacy_auditseal'::regclass)"
            )
            expected = {
                "privacy_auditevent_append_only",
                "privacy_auditchainhead_keep",
                "privacy_auditseal_append_only",
            }
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            expected = {
                "privacy_auditevent_no_update",
                "privacy_auditevent_no_delete",
                "privacy_auditchainhead_no_delete",
                "privacy_auditseal_no_update",
                "privacy_auditseal_no_delete",
            }
        names = {row[0] for row in cursor.fetchall()}
    assert expected <= names


@pytest.mark.django_db(transaction=True)
def test_it_empties_the_trail_only_through_the_maintenance_flush(cast):
    audit.record(
        request=None,
        actor=cast.assigned_clinician,
        patient=cast.patient.patient,
        action=Action.VIEW,
        category=Category.GENERAL,
        purpose=Purpose.TREATMENT,
        outcome=AuditEvent.Outcome.ALLOWED,
    )
    seal_pending()
    # Django's own flush hits the triggers ...
    with pytest.raises(CommandError):
        call_command(DjangoFlush(), interactive=False, verbosity=0)
    assert AuditEvent.objects.count() == 1
    # ... Tether's (which the test suite uses between transactional tests) does not.
    call_command("flush", interactive=False, verbosity=0)
    assert AuditEvent.objects.count() == 0
    assert AuditSeal.objects.count() == 0
    assert AuditChainHead.objects.count() == 0
