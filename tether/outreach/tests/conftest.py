from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from twilio.request_validator import RequestValidator

from tether.checkins.models import ProgramInstrument
from tether.checkins.sync import sync_instruments
from tether.outreach.models import ContactPreference

TOKEN = "test-auth-token-not-a-secret"
BASE = "https://tether.example"
MARIA_PHONE = "+14135550142"


@pytest.fixture(autouse=True)
def _twilio_settings(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TETHER_PUBLIC_BASE_URL = BASE
    settings.TETHER_SMS_BACKEND = "console"
    settings.TETHER_PUSH_BACKEND = "console"


@pytest.fixture
def daily_on(cast):
    sync_instruments()
    for program in (cast.iop, cast.adolescent_iop):
        ProgramInstrument.objects.create(
            organization=cast.organization,
            program=program,
            instrument_code="daily",
            schedule=ProgramInstrument.Schedule.DAILY,
        )
    return cast


@pytest.fixture
def texting(cast):
    """Maria has agreed to texts and to the daily question by text."""
    pref = ContactPreference.objects.create(
        organization=cast.organization,
        patient=cast.patient.patient,
        sms_phone=MARIA_PHONE,
        by_sms=True,
        daily_checkin_by_text=True,
        sms_opted_in_at=timezone.now() - dt.timedelta(days=3),
    )
    return pref


def signed_post(client: Client, name: str, data: dict[str, str], *, token: str = TOKEN):
    url = reverse(name)
    signature = RequestValidator(token).compute_signature(BASE + url, data)
    return client.post(url, data, HTTP_X_TWILIO_SIGNATURE=signature)


_sid = iter(range(1, 10**6))


def text(client: Client, body: str, *, sender: str = MARIA_PHONE, sid: str | None = None):
    data = {
        "MessageSid": sid or f"SM{next(_sid):032d}",
        "From": sender,
        "To": "+14135550199",
        "Body": body,
    }
    return signed_post(client, "outreach:twilio_inbound", data)
