from django.apps import AppConfig


class CheckinsConfig(AppConfig):
    name = "tether.checkins"
    label = "checkins"
    default_auto_field = "django.db.models.BigAutoField"
