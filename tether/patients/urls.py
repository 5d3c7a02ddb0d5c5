from django.urls import path

from tether.patients import views

app_name = "patients"
urlpatterns = [
    path("staff/patients/<int:patient_id>/care/", views.care, name="care"),
    path("me/aftercare/", views.aftercare, name="aftercare"),
]
