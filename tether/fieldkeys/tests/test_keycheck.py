"""A field-key ring that cannot read the stored data is refused, naming the key; a new
key put at the front of the ring is taken up, and rotation keeps working."""

from __future__ import annotations

import base64
import secrets

import pytest
from django.core.management import call_command

from tether.fieldkeys import keycheck
from tether.fieldkeys.models import FieldKeyCheck
from tether.lib.crypto import FieldKey, parse_keys
from tether.messaging import services as messaging


def _key(key_id: str) -> FieldKey:
    return FieldKey(key_id, secrets.token_bytes(32))


def _ring(settings, *keys: FieldKey) -> None:
    settings.TETHER_FIELD_KEYS = tuple(keys)


@pytest.fixture
def fresh(db) -> None:
    """A database no key has been registered with (migrate registered the suite's key)."""
    FieldKeyCheck.objects.all().delete()


@pytest.fixture
def k1(settings, fresh) -> FieldKey:
    key = _key("k1")
    _ring(settings, key)
    keycheck.register()
    return key


def _codes() -> list[tuple[str | None, str]]:
    return [(error.id, error.msg) for error in keycheck.check_field_keys()]


def test_it_accepts_the_ring_that_wrote_the_data(k1):
    assert keycheck.check_field_keys() == []
    assert list(FieldKeyCheck.objects.values_list("key_id", flat=True)) == ["k1"]


def test_it_refuses_another_key_with_the_same_id(settings, k1):
    _ring(settings, _key("k1"))  # well-formed, same id, not the key
    [(code, message)] = _codes()
    assert code == keycheck.WRONG_KEY
    assert "'k1'" in message


def test_it_refuses_a_ring_without_the_key_the_data_is_written_with(settings, k1):
    _ring(settings, _key("k9"))
    [(code, message)] = _codes()
    assert code == keycheck.KEY_MISSING
    assert "'k1'" in message
    assert "k9" in message


def test_start_up_refuses_it_and_writes_nothing(settings, k1):
    _ring(settings, _key("k9"))
    with pytest.raises(Exception, match="'k1'"):
        keycheck.verify_and_register()
    assert not FieldKeyCheck.objects.filter(key_id="k9").exists()


def test_a_new_key_at_the_front_is_taken_up_and_rotation_works(settings, k1, cast):
    messaging.message_send_by_patient(
        patient=cast.patient.patient, author=cast.patient, body="Before the rotation"
    )
    k2 = _key("k2")
    _ring(settings, k2, k1)
    assert keycheck.check_field_keys() == []
    call_command("rotate_keys")  # registers k2, re-encrypts under it
    assert list(FieldKeyCheck.objects.values_list("key_id", flat=True)) == ["k2", "k1"]
    _ring(settings, k2)  # the old key retired after rotation
    assert keycheck.check_field_keys() == []
    # Putting only the old key back would write new text under a key no longer current.
    _ring(settings, k1)
    assert [code for code, _ in _codes()] == [keycheck.KEY_MISSING]


def test_without_check_values_it_tries_the_stored_data(settings, fresh, cast):
    _ring(settings, _key("k1"))
    messaging.message_send_by_patient(
        patient=cast.patient.patient, author=cast.patient, body="Written before the check"
    )
    assert not FieldKeyCheck.objects.exists()
    _ring(settings, _key("k1"))
    assert [code for code, _ in _codes()] == [keycheck.WRONG_KEY]


def test_rotate_keys_refuses_a_wrong_ring(settings, k1, capsys):
    _ring(settings, _key("k1"))
    with pytest.raises(Exception, match="'k1'"):
        call_command("rotate_keys")


def test_the_suite_key_parses():
    # The helper the tests rely on: a ring from text works the same way.
    entry = "k1:" + base64.b64encode(secrets.token_bytes(32)).decode()
    assert parse_keys(entry)[0].key_id == "k1"
