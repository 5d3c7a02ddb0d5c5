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

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, cast

from django.http import HttpRequest

from tether.privacy import audit
from tether.privacy.gate import held_relations, strongest_allowed
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
    held: dict[int, list[Relation]] | None = None,
) -> int:
    """Record one ``view`` event per distinct patient shown (``category``: what the page
    showed of them; ``obj_type``: the kind of record listed, e.g. ``"flags.flag"``).
    Returns the number of events written. Call it after the page's rows are final (only
    the patients actually shown), outside any transaction that may roll back. ``held``:
    the user's relations to them, read already (``record_lists``)."""
    user = cast("User", request.user)
    shown: dict[int, Patient] = {}
    for patient in patients:
        shown.setdefault(patient.pk, patient)
    if not shown:
        return 0
    if held is None:
        held = held_relations(user, shown)
    relations = strongest_allowed(held, category=category)
    rows = []
    for pk in sorted(shown):
        relation = relations.get(pk, Relation.NONE)
        emergency = relation == Relation.BREAK_GLASS
        rows.append(
            (
                shown[pk],
                category,
                Purpose.EMERGENCY if emergency else purpose,
                Relation.BREAK_GLASS.value if emergency else "",
                "" if relation == Relation.NONE else relation,
            )
        )
    audit.append_many(
        audit.events_for(
            request=request, actor=user, action=Action.VIEW, object_type=obj_type, rows=rows
        )
    )
    return len(shown)


def record_lists(
    request: HttpRequest,
    *,
    shown: Mapping[Category, Iterable[Patient]],
    purpose: Purpose,
    obj_type: str,
) -> int:
    """``record_list`` for a page that shows its patients under several categories (the
    board's self-report and Part 2 rows): the user's relations to all of them are read
    in one query. Returns the number of events written."""
    user = cast("User", request.user)
    groups = {category: list(patients) for category, patients in shown.items()}
    held = held_relations(user, [p.pk for patients in groups.values() for p in patients])
    return sum(
        record_list(
            request,
            patients=patients,
            category=category,
            purpose=purpose,
            obj_type=obj_type,
            held=held,
        )
        for category, patients in groups.items()
    )
