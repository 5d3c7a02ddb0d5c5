"""Background tasks of the crisis pathway (Django's tasks framework, database backend)."""

from __future__ import annotations

from django.tasks import task

from tether.crisis import services


@task()
def escalate_urgent_requests() -> int:
    """Move every unacknowledged urgent request whose window has passed up one level."""
    return services.urgent_contact_escalate_due()
