from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import Count, QuerySet

from tether.crisis.models import PATIENT_ASKED_SOURCES, UrgentContactEvent, UrgentContactRequest
from tether.organizations.models import Program
from tether.patients.models import Episode, Proxy

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpRequest

    from tether.accounts.models import User


# Set on a request by a patient page that has read the signed-in patient's current
# episode already (``note_own_episode``): the header's crisis program, no second read.
_NOTED = "_crisis_help_episode"


def note_own_episode(request: HttpRequest, episode: Episode | None) -> None:
    """A patient page read the signed-in patient's current episode (``status`` active,
    the first by id, its program with it: the read ``program_for_crisis_help`` makes):
    the crisis contacts in the page's header use it instead of reading it again."""
    setattr(request, _NOTED, episode)


def crisis_program_for_request(request: HttpRequest) -> Program | None:
    """``program_for_crisis_help`` for this request's signed-in person, using the episode
    a patient page noted (``note_own_episode``) when there is one."""
    user = request.user
    if hasattr(request, _NOTED) and user.is_authenticated and getattr(user, "is_patient", False):
        episode: Episode | None = getattr(request, _NOTED)
        if episode is None:
            return None
        own = getattr(user, "patient", None)  # read with the user (accounts.backends)
        if own is not None and episode.patient_id == own.pk:
            return episode.program
    return program_for_crisis_help(user)


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


def programs_for_public_page(organization_id: int | None) -> list[Program]:
    """Without a program of their own, the active programs of one organization.

    Which organizations use Tether is not for a stranger to read, and a list of
    other clinics' numbers only confuses someone in crisis: with no organization
    (a host that is not mapped, docs/OPERATIONS.md) there is no program list at all.
    """
    if organization_id is None:
        return []
    programs = Program.objects.filter(organization_id=organization_id, is_active=True)
    return list(programs.order_by("name"))


def patient_asked_events() -> QuerySet[UrgentContactEvent]:
    """The times a patient themself asked for urgent help (``PATIENT_ASKED_SOURCES``):
    the button, a message marked urgent or pleading for help, a text. Requests the system
    raised (an item-9 answer, crisis language in a message) are not the patient using the
    crisis pathway: each of those has its own flag."""
    return UrgentContactEvent.objects.filter(
        kind=UrgentContactEvent.Kind.RAISED, source__in=PATIENT_ASKED_SOURCES
    )


def crisis_pathway_use_count(*, patient_id: int, since: dt.datetime | None = None) -> int:
    """How often this patient asked for urgent help (``patient_asked_events``).

    Repeated calls while a request is still open are counted too: each is a RAISED
    event. The pre-session review, the request page and the flag rule read this.
    """
    events = patient_asked_events().filter(request__patient_id=patient_id)
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    return events.count()


def crisis_pathway_use_counts(
    *, patient_ids: list[int], since: dt.datetime | None = None
) -> dict[int, int]:
    """The same for many patients in one query (lists, the flag queue)."""
    events = patient_asked_events().filter(request__patient_id__in=patient_ids)
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    rows = events.values("request__patient_id").annotate(n=Count("id"))
    counts = {pk: 0 for pk in patient_ids}
    counts.update({row["request__patient_id"]: row["n"] for row in rows})
    return counts


def open_request_for(*, patient_id: int) -> UrgentContactRequest | None:
    return (
        UrgentContactRequest.objects.filter(patient_id=patient_id)
        .exclude(status=UrgentContactRequest.Status.CLOSED)
        .select_related("program")
        .first()
    )
