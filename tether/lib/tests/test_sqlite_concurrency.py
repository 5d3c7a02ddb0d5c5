"""The demo's SQLite file under concurrent writers (web server, worker, scheduler).

Several real processes, each configured by ``tether.settings`` exactly as ``make demo``
runs them, read and then write in one transaction at the same time on one SQLite file.
With SQLite's defaults (rollback journal, deferred transactions, a 5 s wait) a reader
that later writes cannot upgrade its lock and fails at once with "database is locked".
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow

WRITER = """
import django, os
django.setup()
from django.db import connection, transaction
failures = []
for n in range(int(os.environ["ROUNDS"])):
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT COALESCE(MAX(n), 0) FROM counter")
                (latest,) = cursor.fetchone()
                cursor.execute("INSERT INTO counter (n, writer) VALUES (%s, %s)",
                               [latest + 1, os.environ["WRITER"]])
    except Exception as exc:
        failures.append(str(exc))
print("FAILURES", len(failures), sorted(set(failures)))
"""


def test_it_lets_concurrent_processes_write_one_sqlite_file_without_locking(tmp_path):
    database = tmp_path / "demo.sqlite3"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tether.settings",
            "DATABASE_URL": f"sqlite:///{database}",
            "TETHER_VAR_DIR": str(tmp_path / "var"),
            "ROUNDS": "150",
        }
    )
    setup = (
        "import django; django.setup(); from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    c.execute('CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER, writer TEXT)')\n"
        "    c.execute('PRAGMA journal_mode'); print('JOURNAL', c.fetchone()[0])\n"
    )
    made = subprocess.run(  # noqa: S603 - fixed argv, our own code
        [sys.executable, "-c", setup], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert made.returncode == 0, made.stderr
    assert "JOURNAL wal" in made.stdout

    writers = [
        subprocess.Popen(  # noqa: S603 - fixed argv, our own code
            [sys.executable, "-c", WRITER],
            cwd=ROOT,
            env={**env, "WRITER": str(number)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for number in range(4)
    ]
    outputs = [writer.communicate(timeout=180) for writer in writers]
    for stdout, stderr in outputs:
        assert "FAILURES 0 []" in stdout, stdout + stderr

    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.db import connection\n"
            "with connection.cursor() as c:\n"
            "    c.execute('SELECT COUNT(*), COUNT(DISTINCT n) FROM counter')\n"
            "    print('ROWS', *c.fetchone())\n",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Every write landed, and each read-then-write saw the one before it.
    assert "ROWS 600 600" in check.stdout, check.stdout + check.stderr
