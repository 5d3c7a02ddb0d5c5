from django.urls import path

from tether.fhir import staff_views

app_name = "fhir_staff"

urlpatterns = [
    path("staff/fhir-clients/", staff_views.clients, name="clients"),
]
