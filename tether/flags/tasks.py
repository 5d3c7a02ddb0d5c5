"""Background task: the periodic flag sweep (scheduled in tether/crisis/scheduler.py)."""

from __future__ import annotations

from django.tasks import task

from tether.flags.services import flags_sweep


@task()
def sweep_flags() -> int:
    """Evaluate every program's rules and raise the new flags; returns how many."""
    return sum(flags_sweep().values())
