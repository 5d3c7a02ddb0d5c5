"""Drill the crisis path as production runs it: taps and double taps under chart loads.

    DEBUG=1 uv run python scripts/drill_crisis_path.py \
        --database postgres://postgres@127.0.0.1:5432/tether_drill --rounds 12

Builds a scratch database (migrated, the test cast), then starts what production
runs: gunicorn with 3 workers (DEBUG off, production security settings behind an
HTTPS proxy header), ``run_worker`` and ``run_scheduler``. Over real HTTP on loopback:

- **taps under load**: in each round, one patient tap on "I need help now" while
  ``--readers`` clinicians load that patient's chart ``--loads`` times each;
- **double taps**: two taps from the same patient released together.

After each round it counts the urgent requests in the database and closes them.
Prints, for each kind: taps tried, taps answered 5xx, taps lost (no request saved),
taps told "not told" although a request was saved, and chart loads answered 5xx.
Exits 1 if anything was lost or answered 5xx. Bounded: every request has a 30 s
timeout and the drill stops by itself. Loopback only.

Use a scratch database: it is dropped and created again.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(database: str, var_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "TETHER_", "SECURE_", "SESSION_", "CSRF_"))
        and key not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tether.settings",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_PROXY_SSL_HEADER": "1",
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": database,
            "TETHER_VAR_DIR": str(var_dir),
            "TETHER_FIELD_KEYS": "drill:"
            + base64.b64encode(b"tether-drill-only-field-key-32by").decode(),
            "TETHER_SCHEDULER_INTERVAL_SECONDS": "5",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
    )
    return env


def _reset_database(database: str) -> None:
    parts = urlsplit(database)
    name = parts.path.lstrip("/")
    admin = database.rsplit("/", 1)[0] + "/postgres"
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _prepare(env: dict[str, str]) -> dict[str, object]:
    """Migrate, build the cast, and sign in a patient and a clinician (session cookies)."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from tether.testing.cast import build_cast, sign_in

    call_command("migrate", verbosity=0)
    cast = build_cast()
    patient_cookie = sign_in(Client(), cast.patient).cookies["sessionid"].value
    clinician_cookie = sign_in(Client(), cast.assigned_clinician).cookies["sessionid"].value
    from django.db import connection

    connection.close()
    return {
        "patient_id": cast.patient.patient.pk,
        "patient_cookie": patient_cookie,
        "clinician_cookie": clinician_cookie,
        "lead": cast.assigned_clinician.pk,
    }


class Http:
    def __init__(self, base: str, session: str) -> None:
        self.base = base
        self.cookies = {"sessionid": session}

    def _headers(self) -> dict[str, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {
            "Cookie": cookie,
            "X-Forwarded-Proto": "https",
            "Origin": self.base.replace("http://", "https://"),
            "Referer": self.base.replace("http://", "https://") + "/",
        }

    def _keep_cookies(self, headers: object) -> None:
        for value in headers.get_all("Set-Cookie") or []:  # type: ignore[attr-defined]
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]

    def request(
        self, method: str, path: str, data: dict[str, str] | None = None
    ) -> tuple[int, str]:
        body = urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(  # noqa: S310 - loopback only
            self.base + path, data=body, method=method, headers=self._headers()
        )
        if body is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: object, **kwargs: object) -> None:
                return None

        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=30) as response:
                self._keep_cookies(response.headers)
                return response.status, response.headers.get("Location", "")
        except urllib.error.HTTPError as error:
            self._keep_cookies(error.headers)
            return error.code, error.headers.get("Location", "")

    def csrf(self) -> str:
        self.request("GET", "/crisis/")
        return self.cookies["csrftoken"]


def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2)  # noqa: S310 - loopback only
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not start")


def _in_threads(jobs: list) -> None:  # type: ignore[type-arg]
    start = threading.Barrier(len(jobs))

    def run(job) -> None:  # type: ignore[no-untyped-def]
        start.wait()
        job()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    var_dir = ROOT / "var" / "drill"
    var_dir.mkdir(parents=True, exist_ok=True)
    env = _env(args.database, var_dir)
    _reset_database(args.database)
    cast = _prepare(env)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    processes = [
        subprocess.Popen(  # noqa: S603 - fixed argv
            [
                sys.executable,
                "-m",
                "gunicorn",
                "tether.wsgi",
                "-w",
                "3",
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        ),
        subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--no-reload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [sys.executable, "manage.py", "run_scheduler"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    try:
        _wait_for(base)
        import psycopg

        def open_requests() -> list[int]:
            with psycopg.connect(args.database) as conn:
                rows = conn.execute(
                    "SELECT id FROM crisis_urgentcontactrequest WHERE status <> 'closed'"
                ).fetchall()
            return [row[0] for row in rows]

        def close_all() -> None:
            with psycopg.connect(args.database) as conn:
                conn.execute(
                    "UPDATE crisis_urgentcontactrequest SET status = 'closed', escalate_at = NULL, "
                    "acknowledged_at = now(), closed_at = now() WHERE status <> 'closed'"
                )

        chart = f"/staff/patients/{cast['patient_id']}/"
        figures = {}
        for kind in ("tap under chart loads", "double tap"):
            tried = five = lost = not_told = chart_loads = chart_five = 0
            for _ in range(args.rounds):
                answers: list[tuple[int, str]] = []
                chart_answers: list[int] = []
                patient = Http(base, str(cast["patient_cookie"]))
                token = patient.csrf()

                def tap(
                    patient: Http = patient, token: str = token, answers: list = answers
                ) -> None:  # type: ignore[type-arg]
                    answers.append(
                        patient.request("POST", "/crisis/urgent/", {"csrfmiddlewaretoken": token})
                    )

                def load(chart_answers: list = chart_answers) -> None:  # type: ignore[type-arg]
                    reader = Http(base, str(cast["clinician_cookie"]))
                    for _ in range(args.loads):
                        chart_answers.append(reader.request("GET", chart)[0])

                jobs = [tap] + [load] * args.readers if kind.startswith("tap") else [tap, tap]
                _in_threads(jobs)
                saved = open_requests()
                for status, location in answers:
                    tried += 1
                    if status >= 500:
                        five += 1
                        if saved:
                            not_told += 1
                    elif not (status == 302 and "/crisis/urgent/" in location):
                        five += 0
                if not saved:
                    lost += len(answers)
                chart_loads += len(chart_answers)
                chart_five += sum(1 for s in chart_answers if s >= 500)
                close_all()
            figures[kind] = (tried, five, lost, not_told, chart_loads, chart_five)
            print(
                f"{kind}: {tried} taps, {five} answered 5xx, {lost} lost (no request saved), "
                f"{not_told} told 'not told' although saved; chart loads {chart_loads}, "
                f"{chart_five} answered 5xx"
            )
        bad = any(f[1] or f[2] or f[5] for f in figures.values())
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
