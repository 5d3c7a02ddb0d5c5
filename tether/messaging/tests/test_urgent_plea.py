"""A typed plea for help now, without the "urgent" tick, raises the urgent request."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

from django.urls import reverse

from tether.crisis.models import UrgentContactRequest
from tether.crisis.selectors import crisis_pathway_use_count
from tether.messaging import services
from tether.messaging.models import CrisisPhrase, Message

NY = zoneinfo.ZoneInfo("America/New_York")
MORNING = dt.datetime(2026, 11, 25, 10, 0, tzinfo=NY)


def test_a_plea_without_the_tick_raises_the_request_and_answers_with_crisis_options(
    cast, client_as
):
    client = client_as(cast.patient)
    response = client.post(
        reverse("messaging:send"),
        {"body": "I need to talk to someone now", "idempotency_key": str(uuid.uuid4())},
        follow=True,
    )
    page = response.content.decode()
    assert "Message sent." not in page
    assert "We have asked your care team to contact you urgently" in page
    assert 'href="tel:988"' in page
    urgent = UrgentContactRequest.objects.get()
    assert urgent.source == UrgentContactRequest.Source.MESSAGE_URGENT
    message = Message.objects.get(author_kind="patient")
    assert (message.trigger, message.urgent_request_id) == ("plea", urgent.pk)
    assert Message.objects.filter(auto_reply="crisis").count() == 1
    # The patient asked: it counts as the patient using the crisis pathway.
    assert crisis_pathway_use_count(patient_id=cast.patient.patient.pk) == 1
    staff = client_as(cast.assigned_clinician).get(
        reverse("messaging:staff_thread", args=[message.thread_id])
    )
    assert "Asked for help now" in staff.content.decode()


def test_not_urgent_stays_routine(cast):
    services.message_send_by_patient(
        patient=cast.patient.patient,
        author=cast.patient,
        body="Not urgent, but can someone call me about Thursday?",
        now=MORNING,
    )
    assert UrgentContactRequest.objects.count() == 0


def test_crisis_language_is_the_systems_call_not_the_patients(cast):
    services.message_send_by_patient(
        patient=cast.patient.patient,
        author=cast.patient,
        body="I don't want to be alive anymore",
        now=MORNING,
    )
    assert UrgentContactRequest.objects.get().source == "message"
    # It has its own "crisis language" flag; it is not counted as the patient asking.
    assert crisis_pathway_use_count(patient_id=cast.patient.patient.pk) == 0


def test_a_program_edits_its_plea_list(cast, client_as):
    client = client_as(cast.clinical_lead)
    url = reverse("messaging:crisis_phrases")
    page = client.get(url, {"program": cast.iop.pk}).content.decode()
    assert "Pleas for help now" in page and "talk to someone now" in page
    client.post(url, {"program": cast.iop.pk, "phrase": "Need a call tonight", "kind": "plea"})
    client.post(url, {"program": cast.iop.pk, "turn_off": "please help", "kind": "plea"})
    pleas = services.urgent_pleas_for(cast.iop)
    assert "need a call tonight" in pleas and "please help" not in pleas
    assert "need a call tonight" not in services.crisis_phrases_for(cast.iop)
    assert CrisisPhrase.objects.filter(kind="plea").count() == 2
    services.message_send_by_patient(
        patient=cast.patient.patient, author=cast.patient, body="I need a call tonight", now=MORNING
    )
    assert UrgentContactRequest.objects.count() == 1
    refused = client.post(url, {"program": cast.iop.pk, "phrase": "x y", "kind": "bogus"})
    assert refused.status_code == 404
