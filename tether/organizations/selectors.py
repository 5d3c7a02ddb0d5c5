from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import OuterRef, Subquery

from tether.organizations.models import Program, ProgramClosure, StaffMember
from tether.patients.models import Episode, Proxy

# The attribute the signed-in user row carries its patient zone in (``get_user``).
PATIENT_ZONE = "program_time_zone"


def patient_zone_annotation() -> Subquery:
    """``time_zone_for`` a patient, as a subquery on the user row: the signed-in user is
    read with it (``UsernameOrEmailBackend.get_user``), so a patient's request does not
    pay a query of its own for the zone. The same rows as the query below: the zone of
    the first program (by id) of their active episodes, or null."""
    return Subquery(
        Episode.objects.filter(status=Episode.Status.ACTIVE, patient__user=OuterRef("pk"))
        .order_by("program_id")
        .values("program__time_zone")[:1]
    )


def time_zone_for(user: Any) -> str | None:
    """The time zone a person's pages use: their (or their family member's) current
    program's, or for staff their first program's."""
    kind = getattr(user, "kind", None)
    if kind == "patient" and hasattr(user, PATIENT_ZONE):
        # Read with the user in this request (``patient_zone_annotation``).
        return getattr(user, PATIENT_ZONE) or None
    programs = Program.objects.all()
    if kind == "staff":
        # One query for the staff row and its zone; the row is kept on the user, so the
        # staff pages (``staff_required``) do not read it again.
        first_zone = (
            Program.objects.filter(staff=OuterRef("pk")).order_by("name").values("time_zone")[:1]
        )
        staff = StaffMember.objects.filter(user=user).annotate(zone=Subquery(first_zone)).first()
        if staff is None:
            return None
        user.staff_member = staff
        return staff.zone or None
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
