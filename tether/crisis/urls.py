from django.urls import path

from tether.crisis import views

app_name = "crisis"
urlpatterns = [
    path("", views.crisis, name="crisis"),
]
