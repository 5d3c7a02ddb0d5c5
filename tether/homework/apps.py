from django.apps import AppConfig


class HomeworkConfig(AppConfig):
    name = "tether.homework"
    label = "homework"
