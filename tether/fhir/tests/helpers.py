"""Test helpers: a registered client with its private key, assertions, tokens, measures."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.test import Client
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import ECKey

from tether.checkins.models import Answer, Instrument, Response
from tether.checkins.sync import sync_instruments
from tether.consent.models import ConsentDirective, Recipient
from tether.fhir import auth
from tether.fhir.models import FhirClient
from tether.organizations.models import Program
from tether.patients.models import Patient
from tether.privacy.gate import record_category_for
from tether.privacy.policy import Category

TOKEN_URL = "http://testserver/fhir/R4/auth/token"
BASE = "/fhir/R4"


@dataclass
class Registered:
    client: FhirClient
    key: ECKey


def register(
    program: Program, admin: Any, *, kind: str = "primary_care", scopes: str = ""
) -> Registered:
    recipient = Recipient.objects.create(
        organization=program.organization,
        name="Dr. Rivera",
        kind=kind,
        recipient_organization="Hillside Primary Care",
    )
    key = ECKey.generate_key("P-384", private=True, auto_kid=True)
    client = FhirClient.objects.create(
        organization=program.organization,
        program=program,
        recipient=recipient,
        client_id=uuid.uuid4().hex,
        jwks={"keys": [key.as_dict(private=False)]},
        scopes=scopes or " ".join(auth.SCOPES),
        created_by=admin,
    )
    return Registered(client, key)


def assertion(
    reg: Registered,
    *,
    key: ECKey | None = None,
    exp_in: int = 240,
    jti: str | None = None,
    aud: str = TOKEN_URL,
    iss: str | None = None,
) -> str:
    signing = key or reg.key
    claims = {
        "iss": iss or reg.client.client_id,
        "sub": reg.client.client_id,
        "aud": aud,
        "exp": int(time.time()) + exp_in,
        "jti": jti or uuid.uuid4().hex,
    }
    return jwt.encode({"alg": "ES384", "kid": signing.kid}, claims, signing, algorithms=["ES384"])


def token_post(http: Client, reg: Registered, *, scope: str = "system/*.read", **kw: Any) -> Any:
    return http.post(
        f"{BASE}/auth/token",
        {
            "grant_type": "client_credentials",
            "client_assertion_type": auth.ASSERTION_TYPE,
            "client_assertion": assertion(reg, **kw),
            "scope": scope,
        },
    )


def bearer(http: Client, reg: Registered, scope: str = "system/*.read") -> dict[str, Any]:
    response = token_post(http, reg, scope=scope)
    assert response.status_code == 200, response.content
    return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['access_token']}"}


def add_measure(patient: Patient, code: str, items: list[int], *, days_ago: int = 3) -> Response:
    sync_instruments()
    instrument = Instrument.objects.get(code=code, is_current=True)
    episode = patient.episodes.get()
    when = timezone.now() - dt.timedelta(days=days_ago)
    total = sum(items)
    band = instrument.spec.band_for(total)
    response = Response.objects.create(
        organization=patient.organization,
        patient=patient,
        episode=episode,
        record_category=record_category_for(episode, Category.SELF_REPORT),
        instrument=instrument,
        window=f"test:{uuid.uuid4().hex}",
        status=Response.Status.COMPLETE,
        started_at=when,
        expires_at=when + dt.timedelta(days=7),
        submitted_at=when,
        total=total,
        band=band.code if band else "",
    )
    Answer.objects.bulk_create(
        Answer(
            organization=patient.organization,
            response=response,
            item_code=str(n),
            value=v,
            answered_at=when,
        )
        for n, v in enumerate(items, start=1)
    )
    return response


def consent_part2(patient: Patient, recipient: Recipient) -> ConsentDirective:
    return ConsentDirective.objects.create(
        organization=patient.organization,
        patient=patient,
        discloser="Recovery IOP",
        recipient=recipient,
        category=Category.PART2.value,
        description="Measure scores",
        purpose="TREAT",
        expires_on=timezone.localdate() + dt.timedelta(days=90),
        revoke_statement="r",
        redisclosure_statement="d",
        refusal_statement="f",
        signature_name="Sam Patient",
        signed_at=timezone.now(),
        signed_via=ConsentDirective.SignedVia.PORTAL,
    )


def parse(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/fhir+json")
    data: dict[str, Any] = json.loads(response.content)
    return data
