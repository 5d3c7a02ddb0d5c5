from django.urls import path

from tether.family import views

app_name = "family"
urlpatterns = [
    path(
        "staff/patients/<int:patient_id>/family-updates/",
        views.staff_updates,
        name="staff_updates",
    ),
    path("me/family-updates/", views.patient_updates, name="patient_updates"),
    path(
        "staff/patients/<int:patient_id>/family-members/",
        views.staff_members,
        name="staff_members",
    ),
    path("me/sharing/family/end/", views.patient_end, name="patient_end"),
    path(
        "family/<int:patient_id>/assignments/<int:assignment_id>/",
        views.family_assignment,
        name="assignment",
    ),
    path(
        "family/<int:patient_id>/assignments/<int:assignment_id>/step/<int:step>/",
        views.family_assignment_step,
        name="assignment_step",
    ),
]
