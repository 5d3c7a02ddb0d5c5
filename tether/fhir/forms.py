from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tether.consent.models import Recipient
from tether.fhir import auth, services
from tether.organizations.models import Program


class ClientForm(forms.Form):
    program = forms.ModelChoiceField(label=_("Program"), queryset=Program.objects.none())
    recipient = forms.ModelChoiceField(
        label=_("Recipient (the system's owner, as the patient's consents name it)"),
        queryset=Recipient.objects.none(),
    )
    jwks = forms.CharField(
        label=_("Public keys (JWK Set, JSON)"), widget=forms.Textarea(attrs={"rows": 6})
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes granted"),
        choices=[(s, s) for s in auth.SCOPES],
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, programs: list[Program], organization_id: int, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = Program.objects.filter(  # type: ignore[attr-defined]  # a ModelChoiceField
            pk__in=[p.pk for p in programs]
        )
        self.fields["recipient"].queryset = Recipient.objects.filter(  # type: ignore[attr-defined]  # a ModelChoiceField
            organization_id=organization_id, is_active=True
        )

    def clean_jwks(self) -> dict[str, object]:
        try:
            return services.public_jwks(self.cleaned_data["jwks"])
        except services.ClientRefused as error:
            raise forms.ValidationError(
                _("Paste a JWK Set of public RSA or EC keys (no private keys).")
            ) from error
