"""A tiny process supervisor for ``make demo`` (production uses systemd: deploy/systemd).

    python -m tether.lib.supervise --restart "CMD" [--restart "CMD" ...] -- MAIN ...

Starts every ``--restart`` command and the main command. A ``--restart`` command that
exits (crashed, killed) is started again after a short wait that grows while it keeps
dying (2 s doubling to 30 s; back to 2 s after a minute's good run), and each restart
is logged. When the main command exits, or on Ctrl-C / SIGTERM, every child is stopped
(SIGTERM, then SIGKILL after 10 s) and the supervisor exits with the main command's
status.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from types import FrameType

FIRST_DELAY = 2.0
MAX_DELAY = 30.0
GOOD_RUN = 60.0
STOP_GRACE = 10.0


def say(message: str) -> None:
    print(f"[supervise] {message}", file=sys.stderr, flush=True)


@dataclass
class Child:
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    delay: float = FIRST_DELAY
    restart_at: float | None = None
    restarts: int = field(default=0)

    @property
    def name(self) -> str:
        return " ".join(self.argv)

    def start(self) -> None:
        # Each child leads its own process group, so that stopping it also stops what it
        # started (runserver's autoreloader child), and Ctrl-C reaches the supervisor,
        # which decides, instead of racing it to restart a child the terminal killed.
        self.process = subprocess.Popen(self.argv, process_group=0)  # noqa: S603 - the operator's own commands
        self.started_at = time.monotonic()
        self.restart_at = None
        say(f"started {self.name} (pid {self.process.pid})")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(self.process.pid, signum)


class Supervisor:
    def __init__(self, restart: list[list[str]], main: list[str]) -> None:
        self.children = [Child(argv) for argv in restart]
        self.main = Child(main)
        self.stopping = False

    def stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGINT, self.stop)
        signal.signal(signal.SIGTERM, self.stop)
        for child in [*self.children, self.main]:
            child.start()
        try:
            while not self.stopping:
                if not self.main.alive():
                    break
                self.tend()
                time.sleep(0.5)
        finally:
            self.stop_all()
        code = self.main.process.returncode if self.main.process is not None else None
        return 0 if self.stopping or code is None or code < 0 else code

    def tend(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.alive():
                continue
            if child.restart_at is None:
                ran = now - child.started_at
                child.delay = FIRST_DELAY if ran >= GOOD_RUN else child.delay
                status = child.process.returncode if child.process is not None else None
                say(
                    f"{child.name} exited with status {status} after "
                    f"{ran:.0f} s; restarting in {child.delay:.0f} s"
                )
                child.restart_at = now + child.delay
                child.delay = min(child.delay * 2, MAX_DELAY)
            elif now >= child.restart_at:
                child.restarts += 1
                child.start()

    def stop_all(self) -> None:
        everyone = [*self.children, self.main]
        for child in everyone:
            if child.process is not None:
                child.signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for child in everyone:
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.signal(signal.SIGKILL)
                child.process.wait()
            child.signal(signal.SIGKILL)  # anything left in its group (e.g. a reloader child)
        say("stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--restart", action="append", default=[], help="a command to keep up")
    parser.add_argument("main", nargs=argparse.REMAINDER, help="-- the main command")
    options = parser.parse_args(argv)
    main_argv = options.main[1:] if options.main[:1] == ["--"] else options.main
    if not main_argv:
        parser.error("give the main command after --")
    return Supervisor([shlex.split(command) for command in options.restart], main_argv).run()


if __name__ == "__main__":
    sys.exit(main())
