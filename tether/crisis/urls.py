from django.urls import path

from tether.crisis import program_views, staff_views, views

app_name = "crisis"
urlpatterns = [
    path("", views.crisis, name="crisis"),
    path("urgent/", views.urgent_request, name="urgent_request"),
    path("urgent/<int:request_id>/", views.urgent_status, name="urgent_status"),
    path("requests/", staff_views.request_list, name="staff_requests"),
    path("requests/<int:request_id>/", staff_views.request_detail, name="staff_request"),
    path(
        "requests/<int:request_id>/acknowledge/",
        staff_views.request_acknowledge,
        name="staff_request_acknowledge",
    ),
    path("requests/<int:request_id>/close/", staff_views.request_close, name="staff_request_close"),
    path("program-settings/", program_views.program_settings, name="program_settings"),
]
