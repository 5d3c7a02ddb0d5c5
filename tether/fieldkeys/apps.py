from django.apps import AppConfig


class FieldKeysConfig(AppConfig):
    name = "tether.fieldkeys"
    label = "fieldkeys"
    verbose_name = "Field-encryption key checks"

    def ready(self) -> None:
        from django.core import checks
        from django.db.models.signals import post_migrate

        from tether.fieldkeys import keycheck

        checks.register(keycheck.check_field_keys)
        post_migrate.connect(keycheck.register_after_migrate, sender=self)
