from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tether.accounts"
    label = "accounts"
    verbose_name = "Accounts"
