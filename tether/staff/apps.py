from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "tether.staff"
    label = "staff"
