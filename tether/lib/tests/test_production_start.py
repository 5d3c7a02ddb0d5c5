"""Production start: the deploy check passes, and gunicorn serves pages and static files."""

from __future__ import annotations

import base64
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def production_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "TETHER_", "SECURE_", "SESSION_", "CSRF_"))
        and key not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "STATIC_MANIFEST", "DATABASE_URL"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tether.settings",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "tether.example.org",
            "SITE_URL": "https://tether.example.org",
            "SECURE_PROXY_SSL_HEADER": "1",
            "TETHER_VAR_DIR": str(tmp_path / "var"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
            "TETHER_FIELD_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        }
    )
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed argv, our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_it_passes_the_deploy_check_with_production_settings(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_refuses_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    result = manage(env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url, headers={"Host": "tether.example.org", "X-Forwarded-Proto": "https"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, dict(response.headers), response.read().decode()


def test_it_serves_pages_and_static_files_under_gunicorn(tmp_path):
    env = production_env(tmp_path)
    for command in (("migrate", "--noinput"), ("collectstatic", "--noinput")):
        result = manage(env, *command)
        assert result.returncode == 0, result.stdout + result.stderr
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - fixed argv
        [
            sys.executable,
            "-m",
            "gunicorn",
            "tether.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--access-logfile",
            "-",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _, body = _get(base + "/healthz")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        assert (status, body) == (200, "ok")

        status, headers, page = _get(base + "/crisis/")
        assert status == 200
        assert "988" in page
        assert "no-store" in headers["Cache-Control"]
        assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        # No server software named (gunicorn.conf.py), and the cross-origin headers.
        assert "Server" not in headers, headers.get("Server")
        assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
        assert "camera=()" in headers["Permissions-Policy"]

        stylesheet = re.search(r'href="(/static/css/tether\.[0-9a-f]+\.css)"', page)
        assert stylesheet, "the page links the hashed (manifest) stylesheet"
        status, headers, css = _get(base + stylesheet.group(1))
        assert status == 200 and ".crisis-bar" in css
        assert "immutable" in headers["Cache-Control"]
        assert "Server" not in headers, headers.get("Server")
    finally:
        server.terminate()
        server.wait(timeout=10)
