from django.urls import path

from tether.homework import views

app_name = "homework"
urlpatterns = [
    path("me/homework/", views.patient_list, name="patient_list"),
    path(
        "me/homework/<int:assignment_id>/step/<int:step>/",
        views.patient_step,
        name="patient_step",
    ),
    path("me/homework/<int:assignment_id>/review/", views.patient_review, name="patient_review"),
    path("staff/patients/<int:patient_id>/homework/", views.staff_list, name="staff_list"),
    path(
        "staff/patients/<int:patient_id>/homework/assign/",
        views.staff_assign,
        name="staff_assign",
    ),
    path(
        "staff/patients/<int:patient_id>/homework/<int:assignment_id>/",
        views.staff_detail,
        name="staff_detail",
    ),
    path(
        "staff/appointments/<int:appointment_id>/homework/",
        views.staff_assign_group,
        name="staff_assign_group",
    ),
    path(
        "staff/patients/<int:patient_id>/homework/<int:assignment_id>/feedback/",
        views.staff_feedback,
        name="staff_feedback",
    ),
]
