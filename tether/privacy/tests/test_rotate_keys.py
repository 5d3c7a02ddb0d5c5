from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tether.fieldkeys.models import FieldKeyCheck
from tether.lib import fields as encrypted
from tether.lib.crypto import FieldKey, KeyRing, key_id_of
from tether.lib.tests.encrypted_models import (  # noqa: F401 - the fixture is used by name
    EncryptedNote,
    encrypted_note_table,
    flip_a_bit,
    raw_values,
    write_raw,
)
from tether.privacy.models import BreakGlassGrant

pytestmark = pytest.mark.django_db

OLDER = FieldKey("k2024", b"1" * 32)
OLD = FieldKey("k2025", b"2" * 32)
NEW = FieldKey("k2026", b"3" * 32)


@pytest.fixture
def notes(request, settings, monkeypatch):
    """Five notes under two old keys (one with a second encrypted column), then a new key."""
    request.getfixturevalue("encrypted_note_table")
    # The test model is not in an installed app, so discovery is pointed at it.
    discover = encrypted.encrypted_fields
    monkeypatch.setattr(encrypted, "encrypted_fields", lambda: discover([EncryptedNote]))
    # These keys never met this database's key checks (tether/fieldkeys): as on a database
    # from before the checks, rotate_keys verifies the ring against the stored notes.
    FieldKeyCheck.objects.all().delete()
    settings.TETHER_FIELD_KEYS = (OLD, OLDER)
    created = [EncryptedNote.objects.create(body=f"note {i}") for i in range(3)]
    settings.TETHER_FIELD_KEYS = (OLDER,)
    created += [
        EncryptedNote.objects.create(body="note 3", summary="summary 3"),
        EncryptedNote.objects.create(body="note 4"),
    ]
    settings.TETHER_FIELD_KEYS = (NEW, OLD, OLDER)
    return created


def rotate(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("rotate_keys", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def key_ids() -> list[str]:
    found = []
    for pk in EncryptedNote.objects.order_by("pk").values_list("pk", flat=True):
        body, summary = raw_values(pk)
        found.append(key_id_of(body))
        if summary is not None:
            found.append(key_id_of(summary))
    return found


def test_it_reencrypts_every_row_under_the_newest_key(notes):
    out, err = rotate("--batch-size", "2")
    assert "Re-encrypted 5 rows under key k2026." in out
    assert key_ids() == ["k2026"] * 6
    assert [n.body for n in EncryptedNote.objects.order_by("pk")] == [f"note {i}" for i in range(5)]
    assert EncryptedNote.objects.get(pk=notes[3].pk).summary == "summary 3"
    assert "5/5 rows" in err and "[" in err  # the progress bar goes to stderr


def test_it_reads_with_the_newest_key_alone_afterwards(notes, settings):
    rotate()
    settings.TETHER_FIELD_KEYS = (NEW,)
    assert sorted(EncryptedNote.objects.values_list("body", flat=True)) == [
        f"note {i}" for i in range(5)
    ]


def test_it_changes_nothing_on_a_second_run(notes):
    rotate()
    before = [raw_values(n.pk) for n in notes]
    out, _ = rotate()
    assert "0 rows to re-encrypt: every encrypted value is already under key k2026." in out
    assert [raw_values(n.pk) for n in notes] == before


def test_it_counts_without_changing_anything_in_a_dry_run(notes):
    before = [raw_values(n.pk) for n in notes]
    out, _ = rotate("--dry-run")
    assert "encryption_tests_note.body: 2 under k2024, 3 under k2025" in out
    assert "encryption_tests_note.summary: 1 under k2024" in out
    assert "Dry run: 5 rows (6 values) would be re-encrypted under key k2026." in out
    assert [raw_values(n.pk) for n in notes] == before


def test_it_stops_and_changes_nothing_when_an_old_key_is_missing(notes, settings):
    settings.TETHER_FIELD_KEYS = (NEW, OLD)  # k2024 is gone
    before = [raw_values(n.pk) for n in notes]
    with pytest.raises(CommandError) as caught:
        rotate()
    message = str(caught.value)
    assert "'k2024'" in message
    assert "encryption_tests_note.body: 2 values under 'k2024'" in message
    assert "encryption_tests_note.summary: 1 values under 'k2024'" in message
    assert "Nothing was changed." in message
    assert [raw_values(n.pk) for n in notes] == before


def test_it_resumes_after_an_interruption(notes, monkeypatch):
    from tether.privacy.management.commands import rotate_keys

    def interrupt(self, rows, label):
        raise KeyboardInterrupt

    original = rotate_keys._Progress.advance
    monkeypatch.setattr(rotate_keys._Progress, "advance", interrupt)
    with pytest.raises(KeyboardInterrupt):
        rotate("--batch-size", "2")
    # The first batch was committed before the interruption; the rest was not touched.
    assert key_ids()[:2] == ["k2026", "k2026"]
    assert "k2026" not in key_ids()[2:]

    monkeypatch.setattr(rotate_keys._Progress, "advance", original)
    out, _ = rotate("--batch-size", "2")
    assert "Re-encrypted 3 rows under key k2026." in out
    assert key_ids() == ["k2026"] * 6


def test_it_stops_at_a_tampered_row_and_names_it(notes):
    body, _ = raw_values(notes[2].pk)
    write_raw(notes[2].pk, "body", flip_a_bit(body))
    with pytest.raises(CommandError) as caught:
        rotate("--batch-size", "2")
    assert f"Row pk={notes[2].pk} of encryption_tests_note.body cannot be decrypted" in str(
        caught.value
    )
    assert "note" not in str(caught.value).split("decrypted:")[1].split("\n")[0].lower().replace(
        "encryption_tests_note", ""
    )
    ids = key_ids()
    assert ids[:2] == ["k2026", "k2026"]  # the batch before the bad row is done
    assert EncryptedNote.objects.filter(pk=notes[0].pk).get().body == "note 0"


def test_it_never_overwrites_a_value_changed_while_it_runs(notes, monkeypatch):
    ring = KeyRing((NEW, OLD, OLDER))
    original_decrypt = KeyRing.decrypt

    def decrypt_then_someone_edits(self, token, *, context):
        plain = original_decrypt(self, token, context=context)
        if plain == "note 1":
            # A clinician saves the note between the read and the write.
            write_raw(notes[1].pk, "body", ring.encrypt("edited meanwhile", context=context))
        return plain

    monkeypatch.setattr(KeyRing, "decrypt", decrypt_then_someone_edits)
    out, _ = rotate()
    assert "Re-encrypted 4 rows" in out and "1 rows changed while this ran" in out
    assert EncryptedNote.objects.get(pk=notes[1].pk).body == "edited meanwhile"


def test_it_reports_zero_rows_when_nothing_is_encrypted_yet(db):
    out, err = rotate()
    assert "0 rows to re-encrypt" in out
    assert err == ""


def test_it_reencrypts_the_demo_database(db, settings):
    call_command("seed_demo", "--force", stdout=io.StringIO())
    grant = BreakGlassGrant.objects.get()  # the demo's one use of emergency access
    explanation = grant.reason
    settings.TETHER_FIELD_KEYS = (NEW, *settings.TETHER_FIELD_KEYS)  # a new key, first
    out, _ = rotate()
    # Every demo step that stores free text adds rows (break-glass, messages, homework...).
    assert re.search(r"Re-encrypted [1-9]\d* rows under key k2026\.", out)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM privacy_breakglassgrant WHERE id = %s", [grant.pk])
        assert cursor.fetchone()[0].startswith("tether:v1:k2026:")
    grant.refresh_from_db()
    assert grant.reason == explanation
    out, _ = rotate()
    assert "0 rows to re-encrypt" in out
