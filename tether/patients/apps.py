from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "tether.patients"
    label = "patients"
