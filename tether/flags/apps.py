from django.apps import AppConfig


class FlagsConfig(AppConfig):
    name = "tether.flags"
    label = "flags"
    default_auto_field = "django.db.models.BigAutoField"
