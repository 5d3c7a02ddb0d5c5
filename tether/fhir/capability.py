"""The CapabilityStatement at ``metadata``: what this server does, for clients and for
the fuzzing run (docs/FHIR.md)."""

from __future__ import annotations

from django.utils import timezone
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from tether.fhir import resources

SEARCH_PARAMS = {
    "Patient": [("_id", "token"), ("identifier", "token")],
    "QuestionnaireResponse": [("_id", "token"), ("patient", "reference"), ("date", "date")],
    "Observation": [
        ("_id", "token"),
        ("patient", "reference"),
        ("date", "date"),
        ("code", "token"),
    ],
    "Appointment": [("_id", "token"), ("patient", "reference"), ("date", "date")],
}


def capability_statement(base: str) -> CapabilityStatement:
    rest_resources = [
        {
            "type": name,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [{"name": n, "type": t} for n, t in params],
        }
        for name, params in SEARCH_PARAMS.items()
    ]
    return CapabilityStatement.model_validate(
        dict(
            status="active",
            date=timezone.now().date().isoformat(),
            kind="instance",
            software={"name": "Tether"},
            implementation={"description": "Tether FHIR R4 API", "url": base},
            fhirVersion=resources.FHIR_VERSION,
            format=["json"],
            rest=[
                {
                    "mode": "server",
                    "security": {
                        "service": [
                            {
                                "coding": [
                                    {
                                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                        "code": "SMART-on-FHIR",
                                    }
                                ]
                            }
                        ],
                        "description": (
                            "SMART Backend Services: a signed JWT client assertion (RS384 or "
                            f"ES384) at {base}/auth/token for a bearer token of system scopes."
                        ),
                        "extension": [
                            {
                                "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                                "extension": [{"url": "token", "valueUri": f"{base}/auth/token"}],
                            }
                        ],
                    },
                    "resource": rest_resources,
                }
            ],
        )
    )
