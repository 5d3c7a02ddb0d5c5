"""The database session each process gets: the web process's pages never wait on a JIT
compile or on starting a parallel worker; the program reports get their parallel workers
back inside their own transaction; other processes keep the server's setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection, transaction

from tether.reports.sql import PARALLEL_WORKERS, roomy

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL's session settings; run with DATABASE_URL=postgres://…",
)

_SHOW = """
import django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SHOW max_parallel_workers_per_gather")
    workers = cursor.fetchone()[0]
    cursor.execute("SHOW jit")
    jit = cursor.fetchone()[0]
    cursor.execute("SHOW random_page_cost")
    cost = cursor.fetchone()[0]
    cursor.execute("SHOW plan_cache_mode")
    print(workers, jit, cost, cursor.fetchone()[0])
"""


def _test_database_url() -> str:
    """DATABASE_URL naming the test database this run created (the configured one may
    not exist: CI's is created by the test run under another name)."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + str(connection.settings_dict["NAME"])))


def _session_in_a_new_process(*, web: bool) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"TETHER_WEB_PROCESS", "DATABASE_JIT"}}
    env["DJANGO_SETTINGS_MODULE"] = "tether.settings"
    env["DATABASE_URL"] = _test_database_url()
    if web:
        env["TETHER_WEB_PROCESS"] = "1"
    result = subprocess.run(  # noqa: S603 - fixed argv, our own settings
        [sys.executable, "-c", _SHOW],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.django_db  # (the test database, which the new process opens)
def test_the_web_process_runs_its_pages_without_parallel_workers_or_jit():
    # and with an index read priced near a sequential one (the board's per-row look-ups),
    # the kept statements' server-bound values planned without them (lib/statements.py)
    assert _session_in_a_new_process(web=True) == ["0", "off", "1.1", "force_generic_plan"]


@pytest.mark.django_db
def test_a_worker_or_command_keeps_the_servers_settings_but_jit():
    workers, jit, random_page_cost, plan_cache_mode = _session_in_a_new_process(web=False)
    assert int(workers) > 0
    assert jit == "off"
    assert float(random_page_cost) > 1.1
    assert plan_cache_mode == "auto"


@pytest.mark.parametrize("entry", ["wsgi.py", "asgi.py"])
def test_both_web_entry_points_say_they_serve_pages(entry):
    source = (ROOT / "tether" / entry).read_text()
    assert 'os.environ.setdefault("TETHER_WEB_PROCESS", "1")' in source
    assert source.index("TETHER_WEB_PROCESS") < source.index("application = ")


def _workers() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        return str(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_a_report_gets_parallel_workers_back_for_its_transaction_only():
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")  # as the web process's
    try:
        with transaction.atomic():
            with roomy():
                assert _workers() == PARALLEL_WORKERS
            assert _workers() == PARALLEL_WORKERS  # SET LOCAL: until the transaction ends
        assert _workers() == "0"
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET max_parallel_workers_per_gather")
