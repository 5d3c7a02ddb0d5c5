from django.urls import path

from tether.portal import record_views, views

app_name = "portal"
urlpatterns = [
    path("", views.patient_home, name="home"),
    path("welcome/", views.welcome, name="welcome"),
    path("family/", views.family_home, name="family_home"),
    path("record/", record_views.record_view, name="record"),
    path("record/pdf/", record_views.record_pdf, name="record_pdf"),
    path("record/fhir/", record_views.record_fhir, name="record_fhir"),
    path("record/send/", record_views.record_send, name="record_send"),
]
