"""``make demo``'s supervisor restarts a worker that dies, and Ctrl-C stops everything."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow

SLEEPER = f"{sys.executable} -c 'import time; time.sleep(120)'"


def _pids(log: Path, marker: str) -> list[int]:
    return [int(pid) for pid in re.findall(rf"started .*{marker}.* \(pid (\d+)\)", log.read_text())]


def _wait(condition: Callable[[], object], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie still answers kill(0): look at its state.
    state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    return state == "Z"


def test_it_restarts_a_dead_child_and_stops_everything_on_ctrl_c(tmp_path):
    log = tmp_path / "supervise.log"
    with log.open("w") as output:
        supervisor = subprocess.Popen(  # noqa: S603 - fixed argv, our own module
            [
                sys.executable,
                "-m",
                "tether.lib.supervise",
                "--restart",
                f"{SLEEPER} worker",
                "--",
                sys.executable,
                "-c",
                "import time; time.sleep(120)",
                "main",
            ],
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait(lambda: _pids(log, "worker") and _pids(log, "main"))
        first_worker = _pids(log, "worker")[0]
        os.kill(first_worker, signal.SIGKILL)  # the worker dies
        _wait(lambda: len(_pids(log, "worker")) == 2)
        assert "restarting in 2 s" in log.read_text()
        second_worker = _pids(log, "worker")[1]
        main = _pids(log, "main")[0]
        assert not _gone(second_worker)

        supervisor.send_signal(signal.SIGINT)  # Ctrl-C
        assert supervisor.wait(timeout=20) == 0
        assert _gone(second_worker)
        assert _gone(main)
        assert len(_pids(log, "worker")) == 2  # nothing restarted on the way out
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
