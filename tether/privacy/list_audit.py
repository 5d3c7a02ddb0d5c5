"""Audit rows for pages that list patients: one row per patient shown.

A list page (the caseload board, the inbox, the flag queue, the urgent requests) shows
something of many patients at once. Each patient shown gets one allowed event, with the
category of what the page showed of them and the relation that allowed it, so "who looked
at my record" and the audit report see list views too (issue 13, HIPAA §164.312(b)).

Every call site goes through ``record_list``, which writes the events in two bulk
inserts (``audit.append_many``: the events and their places in the sealer's queue),
whatever the number of patients shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

from django.http import HttpRequest

from tether.privacy import audit
from tether.privacy.gate import list_relations
from tether.privacy.models import Purpose
from tether.privacy.policy import Action, Category, Relation

if TYPE_CHECKING:
    from tether.accounts.models import User
    from tether.patients.models import Patient


def record_list(
    request: HttpRequest,
    *,
    patients: Iterable[Patient],
    category: Category,
    purpose: Purpose,
    obj_type: str,
) -> int:
    """Record one ``view`` event per distinct patient shown (``category``: what the page
    showed of them; ``obj_type``: the kind of record listed, e.g. ``"flags.flag"``).
    Returns the number of events written. Call it after the page's rows are final (only
    the patients actually shown), outside any transaction that may roll back."""
    user = cast("User", request.user)
    shown: dict[int, Patient] = {}
    for patient in patients:
        shown.setdefault(patient.pk, patient)
    if not shown:
        return 0
    relations = list_relations(user, shown, category=category)
    events = []
    for pk in sorted(shown):
        relation = relations.get(pk, Relation.NONE)
        emergency = relation == Relation.BREAK_GLASS
        events.append(
            audit.event_for(
                request=request,
                actor=user,
                patient=shown[pk],
                action=Action.VIEW,
                category=category,
                purpose=Purpose.EMERGENCY if emergency else purpose,
                object_type=obj_type,
                acting_as=Relation.BREAK_GLASS.value if emergency else "",
                relation="" if relation == Relation.NONE else relation,
            )
        )
    audit.append_many(events)
    return len(shown)
