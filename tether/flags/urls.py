from django.urls import path

from tether.flags import views

app_name = "flags"
urlpatterns = [
    path("staff/flags/", views.queue, name="queue"),
    path("staff/flags/<int:flag_id>/", views.act, name="act"),
]
