from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "tether.portal"
    label = "portal"
