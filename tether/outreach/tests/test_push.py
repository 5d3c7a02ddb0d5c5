"""``/me/reminders/push/`` (POST): the patient subscribes and unsubscribes this phone;
nobody else can add or remove a subscription for them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tether.outreach.models import PushSubscription
from tether.privacy.models import AuditEvent

URL = reverse("outreach:push")
SUB = {
    "endpoint": "https://push.example/send/abc123",
    "p256dh": "BPfake-p256dh",
    "auth": "fake-auth",
}


def _audited(patient) -> int:
    return AuditEvent.objects.filter(
        patient=patient, object_type="outreach.pushsubscription"
    ).count()


@pytest.mark.django_db
def test_the_patient_subscribes_and_unsubscribes_this_phone(cast, client_as):
    client = client_as(cast.patient)
    maria = cast.patient.patient
    response = client.post(URL, SUB)
    assert response.status_code == 200 and response.json() == {"ok": True}
    sub = PushSubscription.objects.get()
    assert (sub.patient, sub.endpoint, sub.auth) == (maria, SUB["endpoint"], "fake-auth")
    assert _audited(maria) == 1
    again = client.post(URL, SUB)  # the same phone again: still one subscription
    assert again.status_code == 200 and PushSubscription.objects.count() == 1
    page = client.get(reverse("outreach:reminders")).content.decode()
    assert "1 device gets notifications." in page
    assert 'data-push-url="/me/reminders/push/"' in page
    gone = client.post(URL, {**SUB, "action": "unsubscribe"})
    assert gone.status_code == 200 and not PushSubscription.objects.exists()


@pytest.mark.django_db
def test_no_one_else_can_subscribe_or_unsubscribe(cast, client, client_as):
    anonymous = client.post(URL, SUB)
    assert anonymous.status_code == 302 and reverse("accounts:login") in anonymous["Location"]
    for person in (cast.assigned_clinician, cast.clinical_lead, cast.parent):
        assert client_as(person).post(URL, SUB).status_code == 404
    assert not PushSubscription.objects.exists()

    client_as(cast.patient).post(URL, SUB)
    # Another patient who somehow knows Maria's endpoint cannot remove it...
    other = client_as(cast.other_patient).post(URL, {**SUB, "action": "unsubscribe"})
    assert other.status_code == 200
    assert PushSubscription.objects.get().patient == cast.patient.patient
    # ...and staff and family cannot either.
    for person in (cast.assigned_clinician, cast.parent):
        assert client_as(person).post(URL, {**SUB, "action": "unsubscribe"}).status_code == 404
    assert PushSubscription.objects.count() == 1


@pytest.mark.django_db
def test_a_bad_subscription_or_a_get_stores_nothing(cast, client_as):
    client = client_as(cast.patient)
    assert client.post(URL, {**SUB, "endpoint": "not a url"}).status_code == 400
    assert client.post(URL, {"endpoint": SUB["endpoint"]}).status_code == 400
    assert client.get(URL).status_code == 405
    assert not PushSubscription.objects.exists()
