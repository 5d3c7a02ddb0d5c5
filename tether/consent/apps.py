from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tether.consent"
    verbose_name = _("Consent and disclosures")
