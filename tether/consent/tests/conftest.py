from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tether.consent.models import ConsentDirective, Recipient
from tether.consent.services import consent_sign
from tether.privacy.models import Purpose
from tether.privacy.policy import Category


@pytest.fixture
def pcp(cast) -> Recipient:
    return Recipient.objects.create(
        organization=cast.organization,
        name="Dr. Rivera",
        recipient_organization="Main Street Family Clinic",
        kind=Recipient.Kind.PRIMARY_CARE,
    )


@pytest.fixture
def sign(cast):
    def _sign(recipient, category=Category.MENTAL_HEALTH, patient=None) -> ConsentDirective:
        patient = patient or cast.patient.patient
        return consent_sign(
            patient=patient,
            signed_by=patient.user,
            recipient=recipient,
            category=category,
            description="Attendance and a short progress summary",
            purpose=Purpose.TREATMENT,
            discloser="Tether Test Clinic",
            expires_on=timezone.localdate() + dt.timedelta(days=90),
            signature_name="Pat Patient",
        )

    return _sign
