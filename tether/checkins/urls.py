from django.urls import path

from tether.checkins import views

app_name = "checkins"
urlpatterns = [
    path("me/check-ins/start/<int:schedule_id>/", views.start, name="start"),
    path("me/check-ins/<uuid:key>/", views.resume, name="resume"),
    path("me/check-ins/<uuid:key>/<int:position>/", views.question, name="question"),
    path("me/check-ins/<uuid:key>/<int:position>/support/", views.support, name="support"),
    path("me/check-ins/<uuid:key>/finish/", views.finish, name="finish"),
    path("me/check-ins/<uuid:key>/done/", views.done, name="done"),
    path("me/progress/", views.progress, name="progress"),
    path("staff/patients/<int:patient_id>/measures/", views.staff_measures, name="staff_measures"),
]
