"""The family thread: a proxy with the messaging scope writes to the care team."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

from django.urls import reverse

from tether.crisis.models import UrgentContactRequest
from tether.messaging import services
from tether.messaging.models import Message, Thread
from tether.patients.models import Proxy
from tether.privacy.models import AuditEvent
from tether.testing.family import grant, make_part2

S = Proxy.Scope
NY = zoneinfo.ZoneInfo("America/New_York")
MORNING = dt.datetime(2026, 11, 25, 10, 0, tzinfo=NY)


def _thread_url(cast: Any) -> str:
    return reverse("messaging:family_thread", args=[cast.adolescent.patient.pk])


def _send_url(cast: Any) -> str:
    return reverse("messaging:family_send", args=[cast.adolescent.patient.pk])


def _post(client: Any, cast: Any, body: str, **extra: Any) -> Any:
    return client.post(
        _send_url(cast), {"body": body, "idempotency_key": str(uuid.uuid4()), **extra}
    )


def test_a_parent_with_the_scope_writes_to_the_care_team_in_a_family_thread(cast, client_as):
    grant(cast, S.MESSAGING)
    client = client_as(cast.parent)
    home = client.get(reverse("portal:family_home")).content.decode()
    assert _thread_url(cast) in home
    page = client.get(_thread_url(cast)).content.decode()
    assert "own messages with their care team are private" in page
    assert 'href="tel:988"' in page
    assert _post(client, cast, "Can we move the family session?").status_code == 302
    message = Message.objects.get(author=cast.parent)
    assert message.thread.kind == Thread.Kind.FAMILY
    assert (message.author_kind, message.record_category) == ("proxy", "general")
    event = AuditEvent.objects.filter(actor=cast.parent, action="create").latest("id")
    assert (event.category, event.purpose, event.outcome) == ("general", "FAMRQT", "allowed")
    assert "Can we move the family session?" in client.get(_thread_url(cast)).content.decode()


def test_the_patients_own_thread_stays_private(cast, client_as):
    grant(cast, S.MESSAGING)
    services.message_send_by_patient(
        patient=cast.adolescent.patient,
        author=cast.adolescent,
        body="Only for my therapist",
        now=MORNING,
    )
    services.message_send_by_proxy(
        patient=cast.adolescent.patient, author=cast.parent, body="From Grace", now=MORNING
    )
    assert Thread.objects.filter(patient=cast.adolescent.patient).count() == 2
    family_page = client_as(cast.parent).get(_thread_url(cast)).content.decode()
    assert "Only for my therapist" not in family_page
    teen_page = client_as(cast.adolescent).get(reverse("messaging:thread")).content.decode()
    assert "From Grace" not in teen_page
    assert "Only for my therapist" in teen_page


def test_staff_see_the_family_thread_marked_in_the_inbox_and_reply(cast, client_as):
    grant(cast, S.MESSAGING)
    sent = services.message_send_by_proxy(
        patient=cast.adolescent.patient, author=cast.parent, body="Question from home", now=MORNING
    )
    client = client_as(cast.assigned_clinician)
    inbox = client.get(reverse("messaging:inbox")).content.decode()
    thread_url = reverse("messaging:staff_thread", args=[sent.message.thread_id])
    assert thread_url in inbox
    assert '<span class="pill">Family</span>' in inbox
    page = client.get(thread_url).content.decode()
    assert "Grace Kim (family)" in page
    assert "Family thread" in page
    assert "Reply to the family" in page and "Reply to the patient" not in page
    reply_url = reverse("messaging:staff_reply", args=[sent.message.thread_id])
    client.post(
        reply_url, {"body": "Yes, Thursday at 4 works.", "idempotency_key": str(uuid.uuid4())}
    )
    reply = Message.objects.get(author=cast.assigned_clinician)
    assert reply.record_category == "general"
    assert (
        "Yes, Thursday at 4 works."
        in client_as(cast.parent).get(_thread_url(cast)).content.decode()
    )


def test_crisis_language_from_a_parent_routes_like_a_patients(cast, client_as):
    grant(cast, S.MESSAGING)
    client = client_as(cast.parent)
    response = _post(
        client,
        cast,
        "I'm scared, my son said he wants to end his life tonight. He said he'd kill myself... I mean himself",
    )
    assert response.status_code == 302
    request = UrgentContactRequest.objects.get(patient=cast.adolescent.patient)
    assert request.status == UrgentContactRequest.Status.OPEN
    page = client.get(_thread_url(cast)).content.decode()
    assert "We have asked the care team to contact you urgently." in page
    assert reverse("crisis:urgent_status", args=[request.pk]) not in page


def test_a_parent_can_mark_a_message_urgent(cast, client_as):
    grant(cast, S.MESSAGING)
    _post(client_as(cast.parent), cast, "Please call me today", urgent="on")
    assert UrgentContactRequest.objects.filter(patient=cast.adolescent.patient).exists()


def test_it_keeps_what_the_parent_typed_when_it_is_too_long(cast, client_as):
    grant(cast, S.MESSAGING)
    long_text = "word " * 900
    response = _post(client_as(cast.parent), cast, long_text)
    assert response.status_code == 400
    assert long_text.strip() in response.content.decode()
    assert not Message.objects.exists()


def test_it_refuses_a_parent_without_the_scope_and_audits_it(cast, client_as):
    client = client_as(cast.parent)
    assert _thread_url(cast) not in client.get(reverse("portal:family_home")).content.decode()
    before = AuditEvent.objects.filter(actor=cast.parent, outcome="denied").count()
    assert client.get(_thread_url(cast)).status_code == 404
    assert _post(client, cast, "Hello").status_code == 404
    assert AuditEvent.objects.filter(actor=cast.parent, outcome="denied").count() == before + 2
    assert not Message.objects.exists()


def test_it_refuses_everyone_else(cast, client_as):
    grant(cast, S.MESSAGING)
    for persona in ("adolescent", "patient", "assigned_clinician", "other_org_clinician"):
        client = client_as(getattr(cast, persona))
        assert client.get(_thread_url(cast)).status_code == 404, persona
        assert _post(client, cast, "Hello").status_code == 404, persona
    other = reverse("messaging:family_thread", args=[cast.patient.patient.pk])
    assert client_as(cast.parent).get(other).status_code == 404


def test_it_closes_the_family_thread_in_a_substance_use_program(cast, client_as):
    grant(cast, S.MESSAGING)
    make_part2(cast.adolescent_iop)
    client = client_as(cast.parent)
    assert client.get(_thread_url(cast)).status_code == 404
    assert _post(client, cast, "Hello").status_code == 404
    home = client.get(reverse("portal:family_home")).content.decode()
    assert _thread_url(cast) not in home
    assert "without Jordan's written consent" in home


def test_it_labels_the_patients_messages_part2_in_a_substance_use_program(cast, client_as):
    make_part2(cast.iop)
    sent = services.message_send_by_patient(
        patient=cast.patient.patient, author=cast.patient, body="About my drinking", now=MORNING
    )
    assert sent.message.record_category == "part2"
    url = reverse("messaging:staff_thread", args=[sent.message.thread_id])
    assert client_as(cast.assigned_clinician).get(url).status_code == 200
    # Program leads and on-call clinicians have no Part 2 access (decision table).
    assert client_as(cast.on_call).get(url).status_code == 404
    plain = services.message_send_by_patient(
        patient=cast.adolescent.patient, author=cast.adolescent, body="Hi", now=MORNING
    )
    assert plain.message.record_category == "shared"
