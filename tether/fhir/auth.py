"""SMART Backend Services: a registered system trades a signed JWT (its client
assertion, RFC 7523) for a short-lived bearer token, and presents that token on every
call. No sessions, no cookies.

The assertion is checked with ``joserfc`` against the public keys the program admin
registered for the client: signature (RS384 or ES384, as the SMART specification
requires servers to support), ``iss`` = ``sub`` = the client id, ``aud`` = this token
endpoint, ``exp`` in the future and at most five minutes away, and a ``jti`` never seen
before for this client (a replay is refused).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from tether.fhir.models import AccessToken, FhirClient, UsedAssertion

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ["RS384", "ES384"]
MAX_ASSERTION_LIFETIME = dt.timedelta(minutes=5)
TOKEN_LIFETIME = dt.timedelta(minutes=5)
# Leeway for the clocks of two machines.
CLOCK_SKEW = dt.timedelta(seconds=60)

READ_SCOPES = (
    "system/Patient.read",
    "system/Observation.read",
    "system/QuestionnaireResponse.read",
    "system/Appointment.read",
)
WRITE_SCOPES = ("system/Appointment.write", "system/Patient.write")
SCOPES = (*READ_SCOPES, "system/*.read", *WRITE_SCOPES)


class TokenRefused(Exception):
    """The token request is refused: ``error`` is the OAuth error code."""

    def __init__(self, error: str, description: str, client: FhirClient | None = None):
        super().__init__(description)
        self.error = error
        self.description = description
        self.client = client


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def granted_scope(requested: str, client: FhirClient) -> list[str]:
    """The requested scopes, all of them within the grant, or ``TokenRefused``."""
    asked = requested.split()
    if not asked:
        raise TokenRefused("invalid_scope", "No scope was requested.", client)
    grant = client.granted
    for scope in asked:
        if scope not in SCOPES:
            raise TokenRefused("invalid_scope", "A scope is not one this server knows.", client)
        if scope not in grant and not (scope in READ_SCOPES and "system/*.read" in grant):
            raise TokenRefused("invalid_scope", "A scope is beyond the client's grant.", client)
    return asked


def verify_assertion(assertion: str, *, audience: str, now: dt.datetime) -> FhirClient:
    """The client whose valid, unused assertion this is, or ``TokenRefused``."""
    try:
        # Read (not trusted) to find the client whose keys verify it, just below.
        unverified = json.loads(jws.extract_compact(assertion.encode()).payload)
    except (JoseError, ValueError, TypeError) as error:
        raise TokenRefused("invalid_client", "The client assertion cannot be read.") from error
    client_id = unverified.get("iss") if isinstance(unverified, dict) else None
    if not isinstance(client_id, str) or not client_id:
        raise TokenRefused("invalid_client", "The client assertion names no client.")
    client = FhirClient.objects.filter(client_id=client_id, is_active=True).first()
    if client is None:
        raise TokenRefused("invalid_client", "Unknown client.")
    try:
        keys = KeySet.import_key_set(client.jwks)
        token = jwt.decode(assertion, keys, algorithms=ALGORITHMS)
    except (JoseError, ValueError, TypeError) as error:
        raise TokenRefused("invalid_client", "The signature does not verify.", client) from error
    claims = token.claims
    if claims.get("sub") != client_id:
        raise TokenRefused("invalid_client", "The assertion's subject is not the client.", client)
    audiences = claims.get("aud")
    if isinstance(audiences, str):
        audiences = [audiences]
    if not isinstance(audiences, list) or audience not in audiences:
        raise TokenRefused("invalid_client", "The assertion is for another audience.", client)
    exp = claims.get("exp")
    if not isinstance(exp, int | float):
        raise TokenRefused("invalid_client", "The assertion has no expiry.", client)
    expires = dt.datetime.fromtimestamp(exp, tz=dt.UTC)
    if expires <= now - CLOCK_SKEW:
        raise TokenRefused("invalid_client", "The assertion has expired.", client)
    if expires > now + MAX_ASSERTION_LIFETIME + CLOCK_SKEW:
        raise TokenRefused("invalid_client", "The assertion lives too long.", client)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 200:
        raise TokenRefused("invalid_client", "The assertion has no usable jti.", client)
    try:
        with transaction.atomic():
            UsedAssertion.objects.create(client=client, jti=jti, expires_at=expires)
    except IntegrityError as error:
        raise TokenRefused("invalid_client", "The assertion was already used.", client) from error
    return client


@dataclass(frozen=True)
class Issued:
    token: str
    scopes: list[str]
    expires_in: int


def token_issue(*, client: FhirClient, scopes: list[str], now: dt.datetime) -> Issued:
    token = secrets.token_urlsafe(32)
    AccessToken.objects.create(
        client=client,
        token_hash=_hash(token),
        scopes=" ".join(scopes),
        issued_at=now,
        expires_at=now + TOKEN_LIFETIME,
    )
    return Issued(token, scopes, int(TOKEN_LIFETIME.total_seconds()))


@dataclass(frozen=True)
class Caller:
    client: FhirClient
    scopes: frozenset[str]

    def may(self, resource_type: str, mode: str = "read") -> bool:
        return f"system/{resource_type}.{mode}" in self.scopes or (
            mode == "read" and "system/*.read" in self.scopes
        )


def bearer(request: HttpRequest, *, now: dt.datetime | None = None) -> Caller | None:
    """The client behind the request's bearer token, or None (missing, unknown, expired,
    or its client deactivated)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    now = now or timezone.now()
    row = (
        AccessToken.objects.select_related("client", "client__recipient", "client__program")
        .filter(token_hash=_hash(token.strip()), expires_at__gt=now, client__is_active=True)
        .first()
    )
    if row is None:
        return None
    return Caller(row.client, frozenset(row.scopes.split()))
