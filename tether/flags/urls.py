from django.urls import path

from tether.flags import views

app_name = "flags"
urlpatterns = [
    path("staff/flags/", views.queue, name="queue"),
    path("staff/flags/<int:flag_id>/", views.act, name="act"),
    path("staff/flags/<int:flag_id>/snooze/", views.snooze, name="snooze"),
    path("staff/flags/rules/", views.rules, name="rules"),
    path("staff/flags/rules/<int:rule_id>/", views.rule_edit, name="rule_edit"),
]
