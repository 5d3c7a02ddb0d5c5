"""A test-only model with encrypted columns, and a fixture that creates its table.

The model's app label is not an installed app, so it never shows up in
``apps.get_models()``, migrations or other tests; its table is created once per
test session with the schema editor (outside any test transaction, as SQLite
requires).
"""

from __future__ import annotations

import base64
from typing import ClassVar

import pytest
from django.db import connection, models

from tether.lib.fields import EncryptedTextField


class EncryptedNote(models.Model):
    title = models.CharField(max_length=50, default="")
    body = EncryptedTextField()
    summary = EncryptedTextField(null=True, blank=True)

    # Spelled out: the app is not installed, so the type checker's plugin never adds it.
    objects: ClassVar[models.Manager[EncryptedNote]] = models.Manager()

    class Meta:
        app_label = "encryption_tests"
        db_table = "encryption_tests_note"

    def __str__(self) -> str:
        return self.title


@pytest.fixture(scope="session")
def encrypted_note_table(django_db_setup, django_db_blocker):
    # Imported by several test modules (each gets its own session fixture), so it
    # creates the table only once; the test database is dropped at the end anyway.
    # The table itself is made in tether/conftest.py's django_db_setup, before any
    # test transaction opens (SQLite's schema editor cannot run inside one).
    with django_db_blocker.unblock():
        create_encrypted_note_table()
    return EncryptedNote


def create_encrypted_note_table() -> None:
    if EncryptedNote._meta.db_table not in connection.introspection.table_names():
        with connection.schema_editor() as editor:
            editor.create_model(EncryptedNote)


def raw_values(pk: int) -> tuple[str, str | None]:
    """What the database holds for one note (body, summary): ciphertext, never decrypted."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT body, summary FROM encryption_tests_note WHERE id = %s", [pk])
        row = cursor.fetchone()
    assert row is not None and row[0] is not None
    return str(row[0]), row[1]


def write_raw(pk: int, column: str, value: str) -> None:
    assert column in {"body", "summary"}
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE encryption_tests_note SET {column} = %s WHERE id = %s",  # noqa: S608 - fixed column names
            [value, pk],
        )


def flip_a_bit(token: str) -> str:
    """The same token with one bit of its ciphertext changed (not just base64 padding bits)."""
    head, _, payload = token.rpartition(":")
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw[len(raw) // 2] ^= 0x01
    return f"{head}:{base64.urlsafe_b64encode(bytes(raw)).decode().rstrip('=')}"
