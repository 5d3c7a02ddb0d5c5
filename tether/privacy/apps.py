from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "tether.privacy"
    label = "privacy"
