from django.urls import path

from tether.outreach import views

app_name = "outreach"
urlpatterns = [
    path("me/reminders/", views.reminders, name="reminders"),
    path("me/reminders/push/", views.push, name="push"),
    path("me/phone/", views.phone, name="phone"),
    path("o/<str:token>/", views.link, name="link"),
    path("outreach/twilio/inbound/", views.twilio_inbound, name="twilio_inbound"),
    path("outreach/twilio/status/", views.twilio_status, name="twilio_status"),
]
