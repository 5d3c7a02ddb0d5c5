from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from tether.lib.crypto import (
    FieldKey,
    InvalidToken,
    KeyRing,
    KeyRingError,
    MissingKeyError,
    field_keys_from_settings,
    generate_key,
    key_id_of,
    parse_keys,
)
from tether.lib.tests.encrypted_models import flip_a_bit

OLD = FieldKey("k-old", b"o" * 32)
NEW = FieldKey("k-new", b"n" * 32)
CONTEXT = "messaging_message.body"
ROOT = Path(__file__).resolve().parents[3]


def test_it_round_trips_text_under_the_newest_key():
    ring = KeyRing([NEW, OLD])
    token = ring.encrypt("I felt better after group today. ünïcödé ✓", context=CONTEXT)
    assert token.startswith("tether:v1:k-new:")
    assert "group" not in token
    assert key_id_of(token) == "k-new"
    assert ring.decrypt(token, context=CONTEXT) == "I felt better after group today. ünïcödé ✓"


def test_it_uses_a_fresh_nonce_every_time():
    ring = KeyRing([NEW])
    assert ring.encrypt("same", context=CONTEXT) != ring.encrypt("same", context=CONTEXT)


def test_it_reads_values_written_under_an_older_key():
    token = KeyRing([OLD]).encrypt("before rotation", context=CONTEXT)
    ring = KeyRing([NEW, OLD])
    assert ring.decrypt(token, context=CONTEXT) == "before rotation"
    assert not ring.is_current(token)
    rotated = ring.reencrypt(token, context=CONTEXT)
    assert ring.is_current(rotated)
    assert ring.decrypt(rotated, context=CONTEXT) == "before rotation"


def test_it_raises_a_clear_error_when_the_key_is_missing():
    token = KeyRing([OLD]).encrypt("secret", context=CONTEXT)
    with pytest.raises(MissingKeyError) as caught:
        KeyRing([NEW]).decrypt(token, context=CONTEXT)
    assert caught.value.key_id == "k-old"
    assert "k-old" in str(caught.value) and "TETHER_FIELD_KEYS" in str(caught.value)
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(flip_a_bit, id="changed-bit"),
        pytest.param(lambda t: t[:-8], id="truncated"),
        pytest.param(lambda t: t[: t.rindex(":") + 1] + "AAAA", id="too-short"),
        pytest.param(lambda t: t + "!!", id="not-base64"),
        pytest.param(lambda t: t.replace(":v1:", ":v9:"), id="unknown-version"),
        pytest.param(lambda t: "plain text someone typed", id="not-a-token"),
    ],
)
def test_it_refuses_tampered_values(tamper):
    ring = KeyRing([NEW])
    token = ring.encrypt("the real text", context=CONTEXT)
    with pytest.raises(InvalidToken) as caught:
        ring.decrypt(tamper(token), context=CONTEXT)
    assert "the real text" not in str(caught.value)


def test_it_refuses_a_value_moved_to_another_column():
    ring = KeyRing([NEW])
    token = ring.encrypt("belongs to the safety plan", context="safety_plan.reasons")
    with pytest.raises(InvalidToken):
        ring.decrypt(token, context="messaging_message.body")


def test_it_refuses_a_value_relabelled_with_another_key_id():
    same_secret = FieldKey("k-alias", NEW.secret)
    ring = KeyRing([NEW, same_secret])
    token = ring.encrypt("text", context=CONTEXT)
    relabelled = token.replace(":k-new:", ":k-alias:")
    with pytest.raises(InvalidToken):
        ring.decrypt(relabelled, context=CONTEXT)


def test_it_parses_the_key_ring_newest_first():
    text = f"{NEW.entry()}, {OLD.entry()}\n"
    keys = parse_keys(text)
    assert [k.key_id for k in keys] == ["k-new", "k-old"]
    assert keys[0].secret == NEW.secret
    assert parse_keys(f"{NEW.entry()}\n{OLD.entry()}") == keys


def test_it_accepts_url_safe_base64_keys():
    secret = bytes(range(200, 232))
    entry = "k1:" + base64.urlsafe_b64encode(secret).decode().rstrip("=")
    assert parse_keys(entry)[0].secret == secret


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("k1", "keyid:base64key"),
        ("k1:" + base64.b64encode(b"short").decode(), "needs 32"),
        ("k1:not*base64", "not valid base64"),
        ("bad.id:" + base64.b64encode(b"x" * 32).decode(), "letters, digits"),
        (f"{NEW.entry()},{NEW.entry()}", "twice"),
        (f"K-NEW:{NEW.entry().split(':')[1]},{NEW.entry()}", "twice"),
    ],
)
def test_it_rejects_a_bad_key_ring(text, message):
    with pytest.raises(KeyRingError, match=message):
        parse_keys(text)


def test_it_never_shows_the_secret_in_a_repr():
    assert base64.b64encode(NEW.secret).decode() not in repr(NEW)
    assert "nnnn" not in repr(NEW)


def test_it_generates_distinct_dated_keys():
    first, second = generate_key(), generate_key()
    assert first.key_id != second.key_id
    assert first.secret != second.secret
    assert len(first.secret) == 32
    assert first.key_id.startswith("k2")


def test_it_prints_a_new_key_entry_with_the_management_command(capsys):
    call_command("generate_field_key")
    entry = capsys.readouterr().out.strip()
    (key,) = parse_keys(entry)
    assert len(key.secret) == 32


def test_it_uses_the_configured_keys_when_given(tmp_path):
    keys = field_keys_from_settings(NEW.entry(), demo_key_file=tmp_path / "field-keys")
    assert keys == (NEW,)
    assert not (tmp_path / "field-keys").exists()


def test_it_generates_and_keeps_a_demo_key_when_none_is_configured(tmp_path):
    path = tmp_path / "var" / "field-keys"
    first = field_keys_from_settings("", demo_key_file=path)
    second = field_keys_from_settings("", demo_key_file=path)
    assert first == second  # the demo database stays readable after a restart
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["field-keys"]  # no temporary files left


def test_it_refuses_to_start_without_keys_when_debug_is_off():
    with pytest.raises(ImproperlyConfigured, match="TETHER_FIELD_KEYS"):
        field_keys_from_settings("  ", demo_key_file=None)


def test_it_names_the_setting_when_a_key_is_bad(tmp_path):
    with pytest.raises(ImproperlyConfigured, match=r"TETHER_FIELD_KEYS: .*base64"):
        field_keys_from_settings("k1:***", demo_key_file=tmp_path / "field-keys")


@pytest.mark.slow
def test_it_stops_a_production_start_without_keys(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TETHER_", "DJANGO_")) and key not in {"DEBUG", "DATABASE_URL"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tether.settings",
            "DEBUG": "0",
            "SECRET_KEY": "x" * 60,
            "ALLOWED_HOSTS": "tether.example.org",
            "TETHER_VAR_DIR": str(tmp_path),
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "TETHER_FIELD_KEYS" in result.stderr
    assert not (tmp_path / "field-keys").exists()
