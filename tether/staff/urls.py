from django.urls import path

from tether.staff import views

app_name = "staff"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("patients/new/", views.patient_create, name="patient_create"),
    path("patients/<int:patient_id>/", views.patient_detail, name="patient_detail"),
    path("patients/<int:patient_id>/review/", views.review, name="review"),
    path("patients/<int:patient_id>/invite/", views.invite_create, name="invite_create"),
    path("patients/<int:patient_id>/reset-code/", views.reset_code_issue, name="reset_code_issue"),
]
