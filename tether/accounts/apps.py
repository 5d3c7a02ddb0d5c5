from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tether.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from tether.accounts.notices import on_sign_in

        user_logged_in.connect(on_sign_in, dispatch_uid="tether_account_notice")
