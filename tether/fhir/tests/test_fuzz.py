"""Fuzzing the FHIR API with schemathesis from its OpenAPI description
(docs/fhir-openapi.yaml): every operation, with a valid token that may read and write,
must never answer 5xx, and every error it gives is an OperationOutcome.

Bounded for CI (``FHIR_FUZZ_EXAMPLES`` cases per operation, 8 by default); the run whose
counts docs/FHIR.md gives used ``FHIR_FUZZ_EXAMPLES=100``.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from tether.fhir.tests.helpers import add_measure, bearer, register
from tether.fhir.tests.test_api import PHQ9

SPEC = Path(__file__).resolve().parents[3] / "docs" / "fhir-openapi.yaml"
EXAMPLES = int(os.environ.get("FHIR_FUZZ_EXAMPLES", "8"))
WRITE = "system/*.read system/Appointment.write system/Patient.write"  # every scope there is

schema = schemathesis.openapi.from_path(str(SPEC))
schema.app = get_wsgi_application()
TALLY: Counter[str] = Counter()


@pytest.fixture
def token(cast, django_db_blocker) -> Iterator[dict[str, str]]:
    from django.test import Client

    reg = register(cast.iop, cast.program_admin)
    add_measure(cast.patient.patient, "phq9", PHQ9)
    auth = bearer(Client(), reg, WRITE)
    # The cases call the WSGI application itself, whose request signals would close the
    # test's own connection, inside its transaction, as "old". Django's test client turns
    # that off for each of its requests (and back on after: so only after the client's
    # last request here); do the same for the cases.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield {"Authorization": auth["HTTP_AUTHORIZATION"]}
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_5xx(case: Any, token: dict[str, str]) -> None:
    # The valid token wins over any Authorization header the generator made up.
    headers = {**(case.headers or {}), **token} if case.operation.path != "/auth/token" else None
    response = case.call(base_url="http://testserver/fhir/R4", headers=headers)
    TALLY[f"{case.method} {case.path}"] += 1
    TALLY[f"status {response.status_code}"] += 1
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
    found = {k.lower(): v for k, v in response.headers.items()}.get("content-type", "")
    kind = found[0] if isinstance(found, list) else found
    # A path that matches no URL at all (a "/" in a path parameter) is Django's own 404.
    unrouted = response.status_code == 404 and "text/html" in kind
    if response.status_code >= 400 and case.operation.path != "/auth/token" and not unrouted:
        assert "fhir+json" in kind
        assert json.loads(response.content)["resourceType"] == "OperationOutcome"


def teardown_module() -> None:
    if TALLY:
        cases = sum(n for key, n in TALLY.items() if not key.startswith("status "))
        operations = len([key for key in TALLY if not key.startswith("status ")])
        statuses = sorted((k, n) for k, n in TALLY.items() if k.startswith("status "))
        print(f"\nfuzz: {operations} operations, {cases} cases, statuses {statuses}")
