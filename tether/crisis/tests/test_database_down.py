"""Database down: the crisis page still answers (503) with the patient's own program's
line, 988 and 911; what they typed is shown back; the health checks say so.

A real outage: a throw-away PostgreSQL cluster serves a real gunicorn; the patient signs
in and opens a page while it is up; then the database is stopped.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tether.testing.pgcluster import ThrowAwayCluster, free_port

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow

SIGN_IN = """
from django.test import Client
from tether.accounts.models import User
from tether.testing.cast import sign_in
client = sign_in(Client(), User.objects.get(username="maria.g"))
print("SESSION", client.cookies["sessionid"].value)
"""


@pytest.fixture
def cluster() -> Iterator[ThrowAwayCluster]:
    cluster = ThrowAwayCluster()
    try:
        cluster.start()
        cluster.create_database()
        yield cluster
    finally:
        cluster.destroy()


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(  # noqa: S603 - fixed argv, our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return str(result.stdout)


class Browser:
    """A cookie-keeping HTTP client that never raises on an error status."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def set_cookie(self, name: str, value: str) -> None:
        host = urllib.parse.urlsplit(self.base).hostname or ""
        self.jar.set_cookie(
            http.cookiejar.Cookie(
                0, name, value, None, False, host, False, False, "/", True, False,
                None, False, None, None, {},
            )
        )  # fmt: skip

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body)  # noqa: S310 - our loopback server
        if data is not None:
            request.add_header("Referer", self.base + path)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def test_the_crisis_page_shows_the_programs_line_while_the_database_is_down(cluster, tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    port = free_port()
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tether.settings",
            "DATABASE_URL": cluster.url,
            "DATABASE_CONN_MAX_AGE": "0",
            "TETHER_VAR_DIR": str(tmp_path / "var"),
            "ALLOWED_HOSTS": "127.0.0.1,testserver",
            "TETHER_HOST_ORGANIZATIONS": "127.0.0.1=riverbend",
        }
    )
    _manage(env, "migrate", "--noinput")
    _manage(env, "shell", "-c", "from tether.testing.cast import build_cast; build_cast()")
    # Saving the programs wrote the snapshot: no database is needed to read it.
    assert "555-0100" in (tmp_path / "var" / "crisis-lines.json").read_text()
    session = _manage(env, "shell", "-c", SIGN_IN).split("SESSION ")[1].split()[0]

    server = subprocess.Popen(  # noqa: S603 - fixed argv: gunicorn serving our app
        [
            sys.executable, "-m", "gunicorn", "tether.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "60",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        patient = Browser(base)
        patient.set_cookie("sessionid", session)
        deadline = time.monotonic() + 60
        status = 0
        while time.monotonic() < deadline:
            try:
                status, page = patient.request("/crisis/")
                break
            except OSError:
                time.sleep(0.3)
        assert status == 200
        assert "Adult IOP" in page  # signed in: their own program
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert csrf is not None
        assert patient.cookie("tether_crisis_program")  # remembered for an outage
        assert Browser(base).request("/healthz")[0] == 200

        cluster.stop()

        status, page = patient.request("/crisis/")
        assert status == 503
        assert "Your program" in page
        assert 'href="tel:5550100"' in page  # the program's own crisis line
        assert 'href="tel:5550101"' in page  # and its after-hours line
        assert 'href="tel:988"' in page
        assert 'href="tel:911"' in page
        assert "Adolescent IOP" not in page  # not another program's

        # The urgent button: plainly not delivered, with the same lines.
        status, page = patient.request("/crisis/urgent/", {"csrfmiddlewaretoken": csrf.group(1)})
        assert status == 503
        assert "has NOT been told" in page
        assert 'href="tel:5550100"' in page

        # A message: what they typed comes back, ready to send again.
        typed = "I can't sleep & the voices are back <again>\r\nplease call me"
        status, page = patient.request(
            "/messages/send/",
            {
                "csrfmiddlewaretoken": csrf.group(1),
                "body": typed,
                "idempotency_key": "3f0c6f3e-5f0e-4f7e-9a57-2b8f0a7f4b11",
            },
        )
        assert status == 503
        assert "I can&#x27;t sleep &amp; the voices are back &lt;again&gt;" in page
        assert 'action="/messages/send/"' in page
        assert 'value="3f0c6f3e-5f0e-4f7e-9a57-2b8f0a7f4b11"' in page  # resend is deduplicated
        assert "Send again" in page

        # Signed out: the programs of the organization this host serves.
        status, page = Browser(base).request("/crisis/")
        assert status == 503
        assert 'href="tel:5550100"' in page
        assert 'href="tel:988"' in page

        # Monitoring hears about it; the load balancer keeps the portal in service.
        assert Browser(base).request("/healthz") == (503, "database unreachable")
        assert Browser(base).request("/healthz/live") == (200, "ok")
        status, body = Browser(base).request("/healthz/background")
        assert status == 503
        assert '"database_unreachable"' in body
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
