from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "tether.reports"
    label = "reports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from tether.reports.aggregates import register_sqlite_median

        connection_created.connect(register_sqlite_median)
