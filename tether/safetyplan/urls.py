from django.urls import path

from tether.safetyplan import pwa, views

app_name = "safety_plan"
urlpatterns = [
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("me/safety-plan/", views.view, name="view"),
    path("me/safety-plan/edit/", views.edit, name="edit"),
    path("me/safety-plan/offline-copy/", views.offline_copy, name="offline_copy"),
    path("staff/patients/<int:patient_id>/safety-plan/", views.staff_view, name="staff_view"),
    path("staff/patients/<int:patient_id>/safety-plan/edit/", views.staff_edit, name="staff_edit"),
]
