from django.urls import path

from tether.reports import views

app_name = "reports"
urlpatterns = [
    path("staff/reports/", views.dashboard, name="dashboard"),
    path("staff/reports/<slug:table_key>.csv", views.table_csv, name="table_csv"),
]
