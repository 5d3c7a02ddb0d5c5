"""Start-up refuses a wrong key ring: ``manage.py check`` (and ``--deploy``) and the WSGI
application (what gunicorn loads), in real processes against a database file."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def _entry(key_id: str) -> str:
    return f"{key_id}:" + base64.b64encode(secrets.token_bytes(32)).decode()


def _run(env: dict[str, str], keys: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed argv, our own code
        [sys.executable, *argv],
        cwd=ROOT,
        env={**env, "TETHER_FIELD_KEYS": keys},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_it_refuses_to_start_with_a_key_that_did_not_write_the_data(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tether.settings",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "TETHER_VAR_DIR": str(tmp_path / "var"),
        }
    )
    right = _entry("k1")
    migrated = _run(env, right, "manage.py", "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr

    assert _run(env, right, "manage.py", "check").returncode == 0

    wrong = _entry("k1")  # well-formed, same id, another key
    for argv in (("manage.py", "check"), ("manage.py", "check", "--deploy")):
        refused = _run(env, wrong, *argv)
        assert refused.returncode == 1
        assert "fieldkeys.E001" in refused.stderr
        assert "key 'k1' cannot decrypt" in refused.stderr

    started = _run(env, wrong, "-c", "import tether.wsgi")
    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr
    assert "key 'k1' cannot decrypt" in started.stderr

    other = _run(env, _entry("k9"), "manage.py", "check")
    assert other.returncode == 1
    assert "written with key 'k1', which is not in the key ring (k9)" in other.stderr

    # Rotation: a new key at the front is taken up at start-up; then the old one may go
    # once rotate_keys has re-encrypted everything.
    new = _entry("k2")
    assert _run(env, f"{new},{right}", "-c", "import tether.wsgi").returncode == 0
    rotated = _run(env, f"{new},{right}", "manage.py", "rotate_keys")
    assert rotated.returncode == 0, rotated.stderr
    assert _run(env, new, "manage.py", "check").returncode == 0
    assert _run(env, right, "manage.py", "check").returncode == 1  # k2 is current now
