from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "tether.scheduling"
    label = "scheduling"
