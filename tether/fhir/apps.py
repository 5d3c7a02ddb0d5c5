from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "tether.fhir"
    label = "fhir"
    verbose_name = "FHIR R4 API"
