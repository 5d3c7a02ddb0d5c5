"""The audit trail: every read, write and denied attempt on patient data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.http import HttpRequest

from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category, Relation

if TYPE_CHECKING:
    from tether.accounts.models import User
    from tether.patients.models import Patient


def client_address(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _actor_role(user: User) -> str:
    if not user.is_authenticated:
        return "anonymous"
    if user.is_staff_member and hasattr(user, "staff_member"):
        return str(user.staff_member.role)
    return str(user.kind)


def record(
    *,
    request: HttpRequest | None,
    actor: User | None,
    patient: Patient | None,
    action: Action,
    category: Category,
    purpose: Purpose,
    outcome: AuditEvent.Outcome,
    obj: models.Model | None = None,
    acting_as: str = "",
) -> AuditEvent:
    organization_id = (
        patient.organization_id if patient is not None else getattr(actor, "organization_id", None)
    )
    return AuditEvent.objects.create(
        organization_id=organization_id,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_role=_actor_role(actor) if actor is not None else "system",
        acting_as=acting_as,
        patient=patient,
        action=action,
        category=category,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        purpose=purpose,
        client_address=client_address(request) if request is not None else None,
        outcome=outcome,
    )


def record_access(
    request: HttpRequest,
    *,
    patient: Patient,
    category: Category,
    action: Action,
    purpose: Purpose,
    relation: Relation,
    obj: models.Model | None = None,
) -> AuditEvent:
    acting_as = relation.value if relation in (Relation.PROXY, Relation.BREAK_GLASS) else ""
    return record(
        request=request,
        actor=request.user,  # type: ignore[arg-type]
        patient=patient,
        action=action,
        category=category,
        purpose=purpose,
        outcome=AuditEvent.Outcome.ALLOWED,
        obj=obj,
        acting_as=acting_as,
    )


def record_denied(
    request: HttpRequest,
    *,
    patient: Patient | None,
    category: Category,
    action: Action,
    purpose: Purpose,
) -> AuditEvent:
    return record(
        request=request,
        actor=request.user,  # type: ignore[arg-type]
        patient=patient,
        action=action,
        category=category,
        purpose=purpose,
        outcome=AuditEvent.Outcome.DENIED,
    )
