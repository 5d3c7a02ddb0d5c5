from django.urls import path

from tether.organizations import setup_views, staff_views

app_name = "program"
urlpatterns = [
    path("staff/program/setup/", setup_views.program_setup, name="setup"),
    path("staff/program/new/", setup_views.program_new, name="new"),
    path("staff/patients/<int:patient_id>/care-team/", setup_views.care_team, name="care_team"),
    # A program admin's staff: invitations, roles, deactivation.
    path("staff/program/staff/", staff_views.staff_list, name="staff"),
    path("staff/program/staff/<int:staff_id>/", staff_views.staff_detail, name="staff_detail"),
]
