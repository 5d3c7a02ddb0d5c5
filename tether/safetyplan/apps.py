from django.apps import AppConfig


class SafetyPlanConfig(AppConfig):
    name = "tether.safetyplan"
    label = "safetyplan"
