"""The same form sent twice stores one message; an edited resend is never dropped
(issue 12, item 5): the form token (idempotency key) plus what was written decide."""

from __future__ import annotations

import uuid

from django.urls import reverse

from tether.messaging.models import Message, Thread
from tether.privacy.models import AuditEvent

SEND = reverse("messaging:send")


def _patient_messages(cast) -> list[str]:
    return list(
        Message.objects.filter(author=cast.patient)
        .order_by("created_at")
        .values_list("body", flat=True)
    )


def test_the_same_form_sent_twice_is_one_message_and_says_sent(cast, client_as):
    client = client_as(cast.patient)
    key = str(uuid.uuid4())
    client.post(SEND, {"body": "Running late today", "idempotency_key": key})
    client.get(reverse("messaging:thread"))
    again = client.post(SEND, {"body": "Running late today", "idempotency_key": key}, follow=True)
    assert _patient_messages(cast) == ["Running late today"]
    assert "It was not sent twice." in again.content.decode()
    assert AuditEvent.objects.filter(object_type="messaging.message", action="create").count() == 1


def test_an_edited_resend_with_the_same_form_is_stored_not_dropped(cast, client_as):
    client = client_as(cast.patient)
    key = str(uuid.uuid4())
    client.post(SEND, {"body": "Running late", "idempotency_key": key})
    # Back, change the words, Send: the browser kept the form and its token.
    page = client.post(
        SEND, {"body": "Running late, 15 minutes", "idempotency_key": key}, follow=True
    )
    assert _patient_messages(cast) == ["Running late", "Running late, 15 minutes"]
    assert "Message sent." in page.content.decode()
    # ... and sending that edited form once more is still one message.
    client.post(SEND, {"body": "Running late, 15 minutes", "idempotency_key": key})
    assert _patient_messages(cast) == ["Running late", "Running late, 15 minutes"]


def test_back_and_send_again_with_a_fresh_form_is_not_stored_twice(cast, client_as):
    client = client_as(cast.patient)
    client.post(SEND, {"body": "Can we move Friday?", "idempotency_key": str(uuid.uuid4())})
    # Back reloads the page (no-store): a new token, the browser restores the typed text.
    again = client.post(
        SEND,
        {"body": "Can we move Friday?\r\n", "idempotency_key": str(uuid.uuid4())},
        follow=True,
    )
    assert _patient_messages(cast) == ["Can we move Friday?"]
    assert "It was not sent twice." in again.content.decode()


def test_the_same_words_later_in_the_conversation_are_a_new_message(cast, client_as):
    client = client_as(cast.patient)
    client.post(SEND, {"body": "Thank you", "idempotency_key": str(uuid.uuid4())})
    client.post(SEND, {"body": "See you then", "idempotency_key": str(uuid.uuid4())})
    client.post(SEND, {"body": "Thank you", "idempotency_key": str(uuid.uuid4())})
    assert _patient_messages(cast) == ["Thank you", "See you then", "Thank you"]


def test_a_staff_reply_follows_the_same_rule(cast, client_as):
    client_as(cast.patient).post(SEND, {"body": "Hello", "idempotency_key": str(uuid.uuid4())})
    thread = Thread.objects.get(patient=cast.patient.patient, kind=Thread.Kind.PATIENT)
    url = reverse("messaging:staff_reply", args=[thread.pk])
    staff = client_as(cast.assigned_clinician)
    key = str(uuid.uuid4())
    staff.post(url, {"body": "Hi, see you at 9", "idempotency_key": key})
    staff.post(url, {"body": "Hi, see you at 9", "idempotency_key": key})
    staff.post(url, {"body": "Hi, see you at 9:30", "idempotency_key": key})
    bodies = list(
        Message.objects.filter(author=cast.assigned_clinician)
        .order_by("created_at")
        .values_list("body", flat=True)
    )
    assert bodies == ["Hi, see you at 9", "Hi, see you at 9:30"]
