"""/staff/fhir-clients/: program admins register and turn off FHIR clients."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from joserfc.jwk import ECKey

from tether.consent.models import Recipient
from tether.fhir.models import FhirClient
from tether.fhir.tests.helpers import TOKEN_URL, Registered, register, token_post

pytestmark = pytest.mark.django_db
URL = "/staff/fhir-clients/"


def _form(cast, key: ECKey, **extra):
    recipient = Recipient.objects.create(
        organization=cast.organization, name="Hillside EHR", kind="primary_care"
    )
    return {
        "program": cast.iop.pk,
        "recipient": recipient.pk,
        "jwks": json.dumps({"keys": [key.as_dict(private=False)]}),
        "scopes": ["system/Patient.read", "system/Observation.read"],
        **extra,
    }


def test_it_registers_a_client_that_then_gets_a_token(cast, client_as):
    key = ECKey.generate_key("P-384", private=True, auto_kid=True)
    response = client_as(cast.program_admin).post(URL, _form(cast, key))
    assert response.status_code == 302
    client = FhirClient.objects.get()
    assert client.created_by == cast.program_admin
    assert client.granted == {"system/Patient.read", "system/Observation.read"}
    page = client_as(cast.program_admin).get(URL).content.decode()
    assert client.client_id in page
    ok = token_post(Client(), Registered(client, key), scope="system/Patient.read")
    assert ok.status_code == 200 and TOKEN_URL.endswith("/auth/token")


def test_it_refuses_a_private_key(cast, client_as):
    key = ECKey.generate_key("P-384", private=True, auto_kid=True)
    data = _form(cast, key, jwks=json.dumps({"keys": [key.as_dict(private=True)]}))
    response = client_as(cast.program_admin).post(URL, data)
    assert response.status_code == 400
    assert not FhirClient.objects.exists()


def test_it_turns_a_client_off(cast, client_as):
    reg = register(cast.iop, cast.program_admin)
    response = client_as(cast.program_admin).post(URL, {"deactivate": str(reg.client.pk)})
    assert response.status_code == 302
    reg.client.refresh_from_db()
    assert not reg.client.is_active
    assert token_post(Client(), reg).status_code == 401


def test_a_clinician_cannot_register_or_turn_off(cast, client_as):
    reg = register(cast.iop, cast.program_admin)
    key = ECKey.generate_key("P-384", private=True, auto_kid=True)
    http = client_as(cast.clinical_lead)
    assert http.post(URL, _form(cast, key)).status_code == 404
    assert http.post(URL, {"deactivate": str(reg.client.pk)}).status_code == 404
    reg.client.refresh_from_db()
    assert reg.client.is_active and FhirClient.objects.count() == 1
