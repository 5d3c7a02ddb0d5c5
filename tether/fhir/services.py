"""Writes of the FHIR app: registering and deactivating clients (program admins), and
issuing a token (the token endpoint). Each in a transaction with its audit event."""

from __future__ import annotations

import datetime as dt
import json

from django.db import transaction
from django.utils import timezone
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from tether.accounts.models import User
from tether.consent.models import Recipient
from tether.fhir import auth
from tether.fhir.models import FhirClient, new_client_id
from tether.organizations.models import Program, StaffMember
from tether.privacy import audit
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category


class ClientRefused(Exception):
    """This person may not register or change this client, or the keys are unusable."""


def admin_programs(user: User) -> list[Program]:
    """The programs whose clients this user manages (a program admin's own programs)."""
    staff = getattr(user, "staff_member", None) if user.is_staff_member else None
    if staff is None or not staff.is_active or staff.role != StaffMember.Role.PROGRAM_ADMIN:
        return []
    return list(staff.programs.order_by("name"))


def public_jwks(raw: str) -> dict[str, object]:
    """A JWK Set of public keys only (RSA or EC), or ``ClientRefused``."""
    try:
        data = json.loads(raw)
        keys = KeySet.import_key_set(data)
    except (ValueError, TypeError, JoseError) as error:
        raise ClientRefused("not a JWK Set") from error
    if not keys.keys:
        raise ClientRefused("no keys")
    for key in keys.keys:
        if key.is_private or key.key_type not in ("RSA", "EC"):
            raise ClientRefused("private or unsupported key")
    return {"keys": [key.as_dict(private=False) for key in keys.keys]}


def client_register(
    *,
    program: Program,
    recipient: Recipient,
    jwks: dict[str, object],
    scopes: list[str],
    registered_by: User,
) -> FhirClient:
    if program not in admin_programs(registered_by) or recipient.organization_id != (
        program.organization_id
    ):
        raise ClientRefused("not this admin's program or recipient")
    if not scopes or any(scope not in auth.SCOPES for scope in scopes):
        raise ClientRefused("unknown scope")
    with transaction.atomic():
        client = FhirClient.objects.create(
            organization_id=program.organization_id,
            program=program,
            recipient=recipient,
            client_id=new_client_id(),
            jwks=jwks,
            scopes=" ".join(sorted(set(scopes))),
            created_by=registered_by,
        )
        audit.record(
            request=None,
            actor=registered_by,
            patient=None,
            action=Action.CREATE,
            category=Category.GENERAL,
            purpose=Purpose.OPERATIONS,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=client,
        )
    return client


def client_deactivate(*, client: FhirClient, deactivated_by: User) -> FhirClient:
    """Turn a client off at once: its tokens stop working on the next call."""
    if client.program not in admin_programs(deactivated_by):
        raise ClientRefused("not this admin's program")
    with transaction.atomic():
        locked = FhirClient.objects.select_for_update(no_key=True).get(pk=client.pk)
        if locked.is_active:
            locked.is_active = False
            locked.deactivated_at = timezone.now()
            locked.save(update_fields=["is_active", "deactivated_at"])
            audit.record(
                request=None,
                actor=deactivated_by,
                patient=None,
                action=Action.UPDATE,
                category=Category.GENERAL,
                purpose=Purpose.OPERATIONS,
                outcome=AuditEvent.Outcome.ALLOWED,
                obj=locked,
            )
    return locked


def token_request(
    *,
    assertion_type: str,
    assertion: str,
    scope: str,
    grant_type: str,
    audience: str,
    now: dt.datetime | None = None,
) -> auth.Issued:
    """The token endpoint's work: a verified assertion and scopes within the grant, or
    ``auth.TokenRefused`` (audited as denied by the view)."""
    now = now or timezone.now()
    if grant_type != "client_credentials":
        raise auth.TokenRefused("unsupported_grant_type", "Use client_credentials.")
    if assertion_type != auth.ASSERTION_TYPE or not assertion:
        raise auth.TokenRefused("invalid_client", "A JWT client assertion is required.")
    client = auth.verify_assertion(assertion, audience=audience, now=now)
    scopes = auth.granted_scope(scope, client)
    with transaction.atomic():
        issued = auth.token_issue(client=client, scopes=scopes, now=now)
        audit.record(
            request=None,
            actor=audit.SystemActor(
                role="fhir_client",
                reference=f"fhir_client:{client.pk}",
                organization_id=client.organization_id,
            ),
            patient=None,
            action=Action.CREATE,
            category=Category.GENERAL,
            purpose=Purpose.OPERATIONS,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=client,
        )
    return issued
