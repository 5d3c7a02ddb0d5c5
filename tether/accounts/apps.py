from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tether.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # The sign-in pause counters listen to Django's and axes' signals.
        from tether.accounts import lockout  # noqa: F401
