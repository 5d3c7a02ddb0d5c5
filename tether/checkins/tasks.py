"""Background tasks for check-ins (Django's tasks framework, database backend)."""

from __future__ import annotations

from django.tasks import task

from tether.checkins.services import responses_close_expired


@task()
def close_expired_checkins() -> int:
    """Close drafts whose window has passed: kept as incomplete, never scored."""
    return responses_close_expired()
