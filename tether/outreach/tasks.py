"""Background tasks of outreach (Django's tasks framework, database backend)."""

from __future__ import annotations

from django.tasks import task

from tether.outreach.sweep import reminders_sweep


@task()
def sweep_reminders() -> int:
    """Queue and hand over every reminder due now; returns how many were queued."""
    return sum(reminders_sweep().values())
