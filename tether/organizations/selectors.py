from __future__ import annotations

import datetime as dt
from typing import Any

from tether.organizations.models import Program, ProgramClosure, StaffMember
from tether.patients.models import Episode, Proxy


def time_zone_for(user: Any) -> str | None:
    """The time zone a person's pages use: their (or their family member's) current
    program's, or for staff their first program's."""
    kind = getattr(user, "kind", None)
    programs = Program.objects.all()
    if kind == "staff":
        zone = (
            StaffMember.objects.filter(user=user)
            .values_list("programs__time_zone", flat=True)
            .order_by("programs__name")
            .first()
        )
        return zone or None
    episodes = Episode.objects.filter(status=Episode.Status.ACTIVE)
    if kind == "patient":
        episodes = episodes.filter(patient__user=user)
    elif kind == "proxy":
        episodes = episodes.filter(
            patient_id__in=Proxy.objects.filter(user=user, is_active=True).values("patient_id")
        )
    else:
        return None
    return (
        programs.filter(pk__in=episodes.values("program_id"))
        .values_list("time_zone", flat=True)
        .first()
    )


def upcoming_closures(*, program: Program, since: dt.date) -> list[ProgramClosure]:
    """The program's closure days from ``since`` on (the program's own today)."""
    return list(ProgramClosure.objects.filter(program=program, date__gte=since).order_by("date"))
