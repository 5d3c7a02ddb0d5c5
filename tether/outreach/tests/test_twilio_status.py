from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from tether.outreach.models import ContactPreference, OutboundMessage
from tether.outreach.tests.conftest import MARIA_PHONE, signed_post


@pytest.fixture
def sent(cast, texting):
    return OutboundMessage.objects.create(
        organization=cast.organization,
        patient=cast.patient.patient,
        channel="sms",
        kind="checkin_due",
        to=MARIA_PHONE,
        body="Tether: You have a check-in waiting",
        status="sent",
        provider_id="SMstatus1",
        created_at=timezone.now(),
    )


def _status(client: Client, status: str, sid: str = "SMstatus1") -> HttpResponse:
    response: HttpResponse = signed_post(
        client,
        "outreach:twilio_status",
        {"MessageSid": sid, "MessageStatus": status, "ErrorCode": "30003"},
    )
    return response


@pytest.mark.django_db
def test_an_undelivered_text_marks_the_number_as_failing_for_staff(client, sent):
    assert _status(client, "undelivered").status_code == 204
    sent.refresh_from_db()
    assert sent.status == "undelivered" and sent.error_code == "30003"
    assert ContactPreference.objects.get().sms_failing_since is not None
    assert _status(client, "undelivered").status_code == 204  # again: nothing changes


@pytest.mark.django_db
def test_a_delivered_text_clears_the_failing_mark(client, sent):
    ContactPreference.objects.update(sms_failing_since=timezone.now())
    _status(client, "delivered")
    assert ContactPreference.objects.get().sms_failing_since is None


@pytest.mark.django_db
def test_a_forged_status_is_refused(client, sent):
    response = client.post(
        "/outreach/twilio/status/", {"MessageSid": "SMstatus1", "MessageStatus": "failed"}
    )
    assert response.status_code == 403
    sent.refresh_from_db()
    assert sent.status == "sent"


@pytest.mark.django_db
def test_staff_see_that_texts_to_the_number_fail(cast, client_as, texting):
    from django.urls import reverse

    from tether.outreach.models import OutboundMessage

    OutboundMessage.objects.create(
        organization=cast.organization,
        patient=cast.patient.patient,
        channel="sms",
        kind="checkin_due",
        to=texting.sms_phone,
        body="x",
        provider_id="SMfail1",
        status="sent",
        created_at=texting.sms_opted_in_at,
    )
    from tether.outreach.services import delivery_status

    assert delivery_status(message_sid="SMfail1", status="undelivered", error_code="30006")
    url = reverse("staff:patient_detail", args=[cast.patient.patient.pk])
    page = client_as(cast.assigned_clinician).get(url)
    assert page.status_code == 200 and "Texts to this number fail" in page.content.decode()
    other = client_as(cast.assigned_clinician).get(
        reverse("staff:patient_detail", args=[cast.other_patient.patient.pk])
    )
    assert "Texts to this number fail" not in other.content.decode()
