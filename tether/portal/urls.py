from django.urls import path

from tether.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.patient_home, name="home"),
    path("welcome/", views.welcome, name="welcome"),
    path("family/", views.family_home, name="family_home"),
]
