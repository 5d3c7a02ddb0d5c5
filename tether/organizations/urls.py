from django.urls import path

from tether.organizations import setup_views

app_name = "program"
urlpatterns = [
    path("staff/program/setup/", setup_views.program_setup, name="setup"),
    path("staff/patients/<int:patient_id>/care-team/", setup_views.care_team, name="care_team"),
]
