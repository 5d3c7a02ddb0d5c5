"""Remove one organization and everything that belongs to it (``seed_demo --reset``).

Every tenant-scoped table carries a foreign key to Organization, so the rows to
remove are found from the models themselves: a table added by a later feature is
wiped without anyone having to remember to list it here. Tables are emptied in
whatever order their protected foreign keys allow.

The organization's audit trail goes with it, in audit maintenance mode (the
append-only triggers let it through only there; on PostgreSQL only for a
superuser). The trail is chained per organization, so no other organization's
chain is touched.
"""

from __future__ import annotations

from django.apps import apps
from django.db import DatabaseError, models, transaction

from tether.organizations.models import Organization
from tether.privacy.maintenance import audit_maintenance


class WipeRefused(Exception):
    """Some rows could not be removed (an append-only table, usually the audit trail)."""


def _organization_fields(model: type[models.Model]) -> list[str]:
    return [
        field.name
        for field in model._meta.get_fields()
        if field.concrete
        and (field.many_to_one or field.one_to_one)
        and field.related_model is Organization
    ]


def _tenant_models() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models()
        if model is not Organization and _organization_fields(model)
    ]


def _filter(model: type[models.Model], organization: Organization) -> models.QuerySet[models.Model]:
    condition = models.Q()
    for name in _organization_fields(model):
        condition |= models.Q(**{name: organization})
    return model._default_manager.filter(condition)


def organization_wipe(*, organization: Organization) -> None:
    """Delete ``organization`` and every row that points at it. Raises WipeRefused,
    leaving everything in place, when the database refuses some of it."""
    remaining = _tenant_models()
    with transaction.atomic(), audit_maintenance():
        while remaining:
            refused: list[type[models.Model]] = []
            reasons: dict[str, str] = {}
            for model in remaining:
                try:
                    with transaction.atomic():
                        _filter(model, organization).delete()
                except (models.ProtectedError, models.RestrictedError) as error:
                    refused.append(model)  # something still points at these rows; later
                    reasons[model._meta.label] = str(error.args[0])  # no object reprs: PHI
                except DatabaseError as error:
                    refused.append(model)
                    reasons[model._meta.label] = str(error).splitlines()[0][:200]
            if len(refused) == len(remaining):
                details = "; ".join(
                    f"{label}: {reason}" for label, reason in sorted(reasons.items())
                )
                raise WipeRefused(f"The database refused to delete some rows ({details}).")
            remaining = refused
        organization.delete()
