from django.apps import AppConfig


class FamilyConfig(AppConfig):
    name = "tether.family"
    label = "family"
