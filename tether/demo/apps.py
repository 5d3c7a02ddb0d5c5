from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "tether.demo"
    label = "demo"
