"""Audit rows for pages that list patients: one row per patient shown.

A list page (the caseload board, the inbox, the flag queue, the urgent requests) shows
something of many patients at once. Each patient shown gets one allowed event, with the
category of what the page showed of them and the relation that allowed it, so "who looked
at my record" and the audit report see list views too (issue 13, HIPAA §164.312(b)).

Every call site goes through ``record_list``: for now it calls ``audit.record`` once per
patient; the audit trail's owner will swap in a bulk insert here without touching the
pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

from django.db import models
from django.http import HttpRequest

from tether.privacy import audit
from tether.privacy.gate import list_relations
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category, Relation

if TYPE_CHECKING:
    from tether.accounts.models import User
    from tether.patients.models import Patient


class _ListedKind:
    """What ``audit.record`` reads of an object (its label and id), for a list: the kind
    of record the page lists (``flags.flag``), with no single row's id."""

    def __init__(self, label: str) -> None:
        self._meta = SimpleNamespace(label_lower=label)
        self.pk = ""


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
    # ``audit.record`` reads only ``_meta.label_lower`` and ``pk`` of ``obj``.
    listed = cast(models.Model, _ListedKind(obj_type))
    for pk in sorted(shown):
        relation = relations.get(pk, Relation.NONE)
        emergency = relation == Relation.BREAK_GLASS
        audit.record(
            request=request,
            actor=user,
            patient=shown[pk],
            action=Action.VIEW,
            category=category,
            purpose=Purpose.EMERGENCY if emergency else purpose,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=listed,
            acting_as=Relation.BREAK_GLASS.value if emergency else "",
            relation="" if relation == Relation.NONE else relation,
        )
    return len(shown)
