from __future__ import annotations

from typing import TYPE_CHECKING

from tether.organizations.models import Program
from tether.patients.models import Episode, Proxy

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tether.accounts.models import User


def program_for_crisis_help(user: User | AnonymousUser) -> Program | None:
    """The program of the signed-in patient's (or proxied patient's) current episode.

    Which program a person is treated in is itself sensitive, so nothing about
    it is kept in cookies for signed-out visitors.
    """
    if not user.is_authenticated:
        return None
    episodes = Episode.objects.filter(status=Episode.Status.ACTIVE).select_related("program")
    if user.is_patient:
        episode = episodes.filter(patient__user=user).first()
    elif user.is_proxy:
        patient_ids = Proxy.objects.filter(user=user, is_active=True).values("patient_id")
        episode = episodes.filter(patient_id__in=patient_ids).first()
    else:
        return None
    return episode.program if episode else None


def programs_for_public_page() -> list[Program]:
    """Signed out, we cannot know the program: list every active program's line."""
    return list(Program.objects.filter(is_active=True).order_by("name"))
