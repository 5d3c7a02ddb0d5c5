from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "tether.outreach"
    label = "outreach"
    verbose_name = "Outreach: reminders, text messages and push"
