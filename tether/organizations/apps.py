from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "tether.organizations"
    label = "organizations"
