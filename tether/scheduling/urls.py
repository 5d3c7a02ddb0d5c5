from django.urls import path

from tether.scheduling import views

app_name = "scheduling"
urlpatterns = [
    path("staff/schedule/", views.week, name="week"),
    path("staff/schedule/import/", views.schedule_import, name="import"),
    path("staff/schedule/groups/new/", views.series_new, name="series_new"),
    path("staff/schedule/groups/<int:series_id>/", views.series_detail, name="series_detail"),
    path(
        "staff/schedule/sessions/<int:appointment_id>/", views.session_detail, name="session_detail"
    ),
    path(
        "staff/schedule/sessions/<int:appointment_id>/attendance/",
        views.attendance,
        name="attendance",
    ),
    path("staff/schedule/patients/<int:patient_id>/book/", views.book, name="book"),
    path("me/sessions/", views.my_sessions, name="my_sessions"),
]
