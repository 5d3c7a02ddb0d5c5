"""The outage drill: the real worker and scheduler ride out a PostgreSQL restart.

A throw-away cluster is started in a temporary directory, migrated and given the test
cast; ``manage.py run_worker`` and ``manage.py run_scheduler`` run against it as real
processes. The database is stopped for a few seconds and started again; then a patient
raises an urgent request whose escalation window has already passed, and the scheduler
and the worker must escalate it, both still alive. Timings are printed (run with ``-s``)
and recorded in docs/OPERATIONS.md ("Outage drill").
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from tether.testing.pgcluster import ThrowAwayCluster

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow

OUTAGE_SECONDS = 6
WORKER_COMMAND = "run_worker"

RAISE_LATE_REQUEST = """
import datetime as dt
from django.utils import timezone
from tether.crisis import services
from tether.patients.models import Patient
patient = Patient.objects.get(user__username="maria.g")
program = services.program_of(patient)
# Raised as if a window and a minute ago, so it is due for escalation at once.
request = services.urgent_contact_raise(
    patient=patient,
    source="patient_button",
    now=timezone.now() - dt.timedelta(minutes=program.escalation_minutes + 1),
)
print("REQUEST", request.pk, request.level)
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


def drill_env(cluster: ThrowAwayCluster, tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tether.settings",
            "DATABASE_URL": cluster.url,
            "TETHER_VAR_DIR": str(tmp_path / "var"),
            "TETHER_SCHEDULER_INTERVAL_SECONDS": "5",
            "PYTHONUNBUFFERED": "1",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        }
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
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


def escalated(cluster: ThrowAwayCluster, request_id: int) -> bool:
    with psycopg.connect(
        cluster.url.replace("postgres://", "postgresql://"), autocommit=True
    ) as db:
        row = db.execute(
            "SELECT 1 FROM crisis_urgentcontactevent WHERE request_id = %s AND kind = 'escalated'",
            [request_id],
        ).fetchone()
    return row is not None


def sweep_succeeded(cluster: ThrowAwayCluster) -> bool:
    with psycopg.connect(
        cluster.url.replace("postgres://", "postgresql://"), autocommit=True
    ) as db:
        row = db.execute(
            "SELECT 1 FROM django_tasks_database_dbtaskresult WHERE status = 'SUCCESSFUL'"
        ).fetchone()
    return row is not None


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_it_escalates_after_a_database_restart_with_both_processes_alive(cluster, tmp_path):
    env = drill_env(cluster, tmp_path)
    manage(env, "migrate", "--noinput")
    manage(env, "shell", "-c", "from tether.testing.cast import build_cast; build_cast()")

    logs = {name: open(tmp_path / f"{name}.log", "w+") for name in ("worker", "scheduler")}  # noqa: SIM115
    worker = subprocess.Popen(  # noqa: S603 - fixed argv, our own manage.py
        [sys.executable, "manage.py", WORKER_COMMAND, "--no-reload", "--interval", "1"],
        cwd=ROOT,
        env=env,
        stdout=logs["worker"],
        stderr=subprocess.STDOUT,
    )
    scheduler = subprocess.Popen(
        [sys.executable, "manage.py", "run_scheduler"],
        cwd=ROOT,
        env=env,
        stdout=logs["scheduler"],
        stderr=subprocess.STDOUT,
    )

    def log(name: str) -> str:
        return Path(tmp_path, f"{name}.log").read_text()

    try:
        # Both are working: the first sweep ran through the worker.
        wait_for(
            lambda: sweep_succeeded(cluster),
            timeout=90,
            what="the first sweep",
        )

        cluster.stop()
        outage_started = time.monotonic()
        time.sleep(OUTAGE_SECONDS)
        assert worker.poll() is None, "the worker exited during the outage:\n" + log("worker")
        assert scheduler.poll() is None, "the scheduler exited during the outage:\n" + log(
            "scheduler"
        )
        cluster.start()
        restarted_at = time.monotonic()

        raised = manage(env, "shell", "-c", RAISE_LATE_REQUEST)
        request_id = int(raised.split("REQUEST ")[1].split()[0])
        raised_at = time.monotonic()
        waited = wait_for(
            lambda: escalated(cluster, request_id),
            timeout=150,
            what="the escalation after the restart",
        )
        print(  # the drill's figures, for docs/OPERATIONS.md
            f"\nOUTAGE DRILL: database down {restarted_at - outage_started:.1f} s; "
            f"request raised {raised_at - restarted_at:.1f} s after the restart; "
            f"escalated {waited:.1f} s after it was raised "
            f"({raised_at + waited - restarted_at:.1f} s after the restart)"
        )
        assert worker.poll() is None, log("worker")
        assert scheduler.poll() is None, log("scheduler")
        # Each process said what happened, and that it came back.
        assert "database unreachable" in log("worker")
        assert "database reachable again" in log("worker")
        assert "database unreachable" in log("scheduler")
        assert "database reachable again" in log("scheduler")
        print("WORKER LOG:\n" + log("worker") + "\nSCHEDULER LOG:\n" + log("scheduler"))
    finally:
        for process in (worker, scheduler):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        for handle in logs.values():
            handle.close()
