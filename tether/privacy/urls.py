from django.urls import path

app_name = "privacy"
urlpatterns: list = []  # audit reports, "who viewed my record", break-glass: see issue 3
