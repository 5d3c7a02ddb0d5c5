from django.urls import path

from tether.fhir import views

app_name = "fhir"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path("auth/token", views.token, name="token"),
    path("Group/<str:group_id>/$export", views.export_kick_off, name="export"),
    path("$export-status/<uuid:key>", views.export_status, name="export_status"),
    path(
        "$export-file/<uuid:key>/<str:file_type>.ndjson",
        views.export_file,
        name="export_file",
    ),
    path("<str:resource_type>", views.type_endpoint, name="search"),
    path("<str:resource_type>/<str:resource_id>", views.instance_endpoint, name="read"),
]
