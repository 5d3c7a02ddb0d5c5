"""The demo's phone page: only in a demo with the console backend, only the signed-in
patient's own texts, and a reply typed there goes through the webhook's own service."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tether.checkins.models import Answer
from tether.crisis.models import UrgentContactRequest
from tether.outreach.models import InboundMessage, OutboundMessage

URL = reverse("outreach:phone")


@pytest.fixture
def demo(settings):
    settings.TETHER_DEMO = True
    settings.TETHER_SMS_BACKEND = "console"


@pytest.mark.django_db
def test_it_does_not_exist_outside_a_demo(cast, client_as, texting, settings):
    settings.TETHER_DEMO = False
    settings.DEBUG = False
    assert client_as(cast.patient).get(URL).status_code == 404
    settings.TETHER_DEMO = True
    settings.TETHER_SMS_BACKEND = "twilio"  # real texts: no pretend phone
    assert client_as(cast.patient).get(URL).status_code == 404


@pytest.mark.django_db
def test_only_the_patient_sees_their_own_phone(cast, client_as, texting, demo, daily_on):
    client = client_as(cast.patient)
    client.post(URL, {"action": "ask"})
    page = client.get(URL)
    assert page.status_code == 200
    assert "How is your mood today?" in page.content.decode()
    for person in (cast.assigned_clinician, cast.clinical_lead, cast.parent):
        assert client_as(person).get(URL).status_code == 404
    other = client_as(cast.other_patient).get(URL)
    assert other.status_code == 200 and "How is your mood today?" not in other.content.decode()


@pytest.mark.django_db
def test_a_reply_goes_through_the_webhooks_service(cast, client_as, texting, demo, daily_on):
    client = client_as(cast.patient)
    client.post(URL, {"action": "ask"})
    assert OutboundMessage.objects.filter(kind="sms_checkin").count() == 1
    response = client.post(URL, {"action": "reply", "body": "seven"})
    assert response.status_code == 302
    inbound = InboundMessage.objects.get()
    assert inbound.patient == cast.patient.patient and inbound.handling == "checkin"
    assert list(Answer.objects.values_list("item_code", "value")) == [("mood", 7)]
    page = client.get(URL).content.decode()
    assert "seven" in page and "How did you sleep last night?" in page


@pytest.mark.django_db
def test_a_crisis_reply_on_the_phone_page_is_routed(cast, client_as, texting, demo, daily_on):
    client = client_as(cast.patient)
    client.post(URL, {"action": "reply", "body": "I want to kill myself"})
    assert UrgentContactRequest.objects.filter(patient=cast.patient.patient).exists()
    assert "988" in client.get(URL).content.decode()


@pytest.mark.django_db
def test_an_empty_reply_is_refused_and_nothing_stored(cast, client_as, texting, demo):
    response = client_as(cast.patient).post(URL, {"action": "reply", "body": ""})
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()
