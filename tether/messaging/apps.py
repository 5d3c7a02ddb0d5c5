from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "tether.messaging"
    label = "messaging"
