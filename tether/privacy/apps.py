from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "tether.privacy"
    label = "privacy"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from tether.privacy.maintenance import register_sqlite_function

        connection_created.connect(register_sqlite_function, dispatch_uid="tether_audit_sqlite")
