"""The shipped systemd units keep the web, the worker and the scheduler running."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest
from django.core.management import get_commands

UNITS = Path(__file__).resolve().parents[3] / "deploy" / "systemd"


@pytest.mark.parametrize(
    ("unit", "command"),
    [
        ("tether-web.service", "gunicorn tether.wsgi:application"),
        ("tether-worker.service", "manage.py run_worker --no-reload"),
        ("tether-scheduler.service", "manage.py run_scheduler"),
    ],
)
def test_it_restarts_each_process_whatever_ended_it(unit, command):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read(UNITS / unit)
    assert command in parser["Service"]["ExecStart"]
    assert parser["Service"]["Restart"] == "always"
    assert parser["Unit"]["StartLimitIntervalSec"] == "0"  # never gives up


def test_the_commands_the_units_run_exist():
    assert get_commands()["run_worker"] == "tether.crisis"
    assert "run_scheduler" in get_commands()
