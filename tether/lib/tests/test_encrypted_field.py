from __future__ import annotations

import pytest
from django.core.exceptions import FieldError
from django.db import models

from tether.lib.crypto import FieldKey, InvalidToken, MissingKeyError
from tether.lib.fields import EncryptedTextField, encrypted_fields
from tether.lib.tests.encrypted_models import (  # noqa: F401 - the fixture is used by name
    EncryptedNote,
    encrypted_note_table,
    flip_a_bit,
    raw_values,
    write_raw,
)
from tether.patients.models import Patient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("encrypted_note_table")]

TEXT = "I want to call my sister when the urge comes back."


def test_it_stores_ciphertext_and_reads_text():
    note = EncryptedNote.objects.create(body=TEXT)
    body, summary = raw_values(note.pk)
    assert body.startswith("tether:v1:test-2026:")
    assert "sister" not in body
    assert summary is None
    assert EncryptedNote.objects.get(pk=note.pk).body == TEXT
    assert list(EncryptedNote.objects.values_list("body", flat=True)) == [TEXT]


def test_it_binds_the_ciphertext_to_its_table_and_column():
    field = EncryptedNote._meta.get_field("body")
    assert field.context == "encryption_tests_note.body"


def test_it_encrypts_updates_and_bulk_writes():
    first, second = EncryptedNote.objects.bulk_create(
        [EncryptedNote(body="one"), EncryptedNote(body="two")]
    )
    EncryptedNote.objects.filter(pk=first.pk).update(body="one, changed")
    second.body = "two, changed"
    EncryptedNote.objects.bulk_update([second], ["body"])
    for note in (first, second):
        assert raw_values(note.pk)[0].startswith("tether:v1:")
    assert sorted(EncryptedNote.objects.values_list("body", flat=True)) == [
        "one, changed",
        "two, changed",
    ]


def test_it_keeps_empty_text_and_null_apart():
    note = EncryptedNote.objects.create(body="", summary=None)
    note.refresh_from_db()
    assert note.body == ""
    assert note.summary is None
    assert raw_values(note.pk)[0].startswith("tether:v1:")


def test_it_allows_only_null_checks_in_queries():
    with_summary = EncryptedNote.objects.create(body="a", summary="short")
    without = EncryptedNote.objects.create(body="b")
    assert list(EncryptedNote.objects.filter(summary__isnull=True)) == [without]
    assert list(EncryptedNote.objects.filter(summary=None)) == [without]
    assert list(EncryptedNote.objects.exclude(summary=None)) == [with_summary]


@pytest.mark.parametrize(
    "lookup",
    [
        {"body": TEXT},
        {"body__exact": TEXT},
        {"body__icontains": "sister"},
        {"body__startswith": "I want"},
        {"body__in": [TEXT]},
        {"body__gt": "a"},
        {"body__lower": "x"},
    ],
)
def test_it_refuses_to_search_encrypted_text(lookup):
    with pytest.raises(FieldError, match="encrypted at rest"):
        EncryptedNote.objects.filter(**lookup)


def test_it_raises_instead_of_showing_ciphertext_when_the_key_is_missing(settings):
    note = EncryptedNote.objects.create(body=TEXT)
    settings.TETHER_FIELD_KEYS = (FieldKey("another", b"a" * 32),)
    with pytest.raises(MissingKeyError, match="test-2026"):
        EncryptedNote.objects.get(pk=note.pk)


def test_it_raises_when_a_stored_value_was_tampered_with():
    note = EncryptedNote.objects.create(body=TEXT)
    body, _ = raw_values(note.pk)
    write_raw(note.pk, "body", flip_a_bit(body))
    with pytest.raises(InvalidToken):
        EncryptedNote.objects.get(pk=note.pk)


def test_it_raises_when_a_value_is_copied_from_another_column():
    note = EncryptedNote.objects.create(body="the body", summary="the summary")
    body, _ = raw_values(note.pk)
    write_raw(note.pk, "summary", body)
    with pytest.raises(InvalidToken):
        EncryptedNote.objects.get(pk=note.pk)


def test_it_raises_when_plain_text_was_written_behind_its_back():
    note = EncryptedNote.objects.create(body=TEXT)
    write_raw(note.pk, "body", "plain text written by raw SQL")
    with pytest.raises(InvalidToken):
        EncryptedNote.objects.get(pk=note.pk)


def test_it_keeps_an_explicit_encryption_context_in_migrations():
    field = EncryptedTextField(encryption_context="old_table.old_column")
    _, path, _, kwargs = field.deconstruct()
    assert path == "tether.lib.fields.EncryptedTextField"
    assert kwargs == {"encryption_context": "old_table.old_column"}
    assert "encryption_context" not in EncryptedTextField().deconstruct()[3]


def test_it_rejects_indexes_and_uniqueness_in_system_checks():
    class Indexed(models.Model):  # noqa: DJ008 - never shown
        secret = EncryptedTextField(unique=True)

        class Meta:
            app_label = "encryption_tests"

    errors = Indexed._meta.get_field("secret").check()
    assert [e.id for e in errors] == ["tether.E001"]


def test_it_finds_the_encrypted_fields_of_each_model():
    found = encrypted_fields([EncryptedNote, Patient])
    assert found == [
        (
            EncryptedNote,
            [EncryptedNote._meta.get_field("body"), EncryptedNote._meta.get_field("summary")],
        )
    ]
