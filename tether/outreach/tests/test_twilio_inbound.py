"""Twilio's inbound webhook: signed requests only, once per MessageSid, keywords,
the daily check-in by text, crisis language."""

from __future__ import annotations

import pytest

from tether.checkins.models import Answer, Response
from tether.crisis.models import UrgentContactRequest
from tether.outreach.models import ContactPreference, InboundMessage, OutboundMessage
from tether.outreach.tests.conftest import MARIA_PHONE, signed_post, text
from tether.patients.models import Patient
from tether.privacy.models import AuditEvent


def _mood_answers(patient: Patient) -> list[int | None]:
    return list(
        Answer.objects.filter(
            response__patient=patient, response__instrument__code="daily", item_code="mood"
        ).values_list("value", flat=True)
    )


@pytest.mark.django_db
def test_it_records_a_texted_7_as_the_daily_mood_of_the_right_patient(client, daily_on, texting):
    maria, other = daily_on.patient.patient, daily_on.other_patient.patient
    response = text(client, "7")
    assert response.status_code == 200
    # The next question of the same check-in, in the instrument's own words.
    assert "How did you sleep last night?" in response.content.decode()
    assert _mood_answers(maria) == [7]
    assert _mood_answers(other) == []
    draft = Response.objects.get(patient=maria)
    assert draft.window.startswith("daily:")  # the web flow's window, same response
    # Written through the check-in service: its audit event names the response.
    assert AuditEvent.objects.filter(
        patient=maria, object_type="checkins.response", object_id=str(draft.pk)
    ).exists()
    inbound = InboundMessage.objects.get()
    assert inbound.patient == maria and inbound.body == "7" and inbound.handling == "checkin"


@pytest.mark.django_db
def test_the_texted_daily_check_in_is_submitted_and_scored_like_the_web_one(
    client, daily_on, texting
):
    """Item by item through the check-in services: mood, sleep, the optional note; the
    last reply submits the response, which is then complete exactly as on the page."""
    maria = daily_on.patient.patient
    text(client, "6")
    asked = text(client, "well").content.decode()  # an option's own label
    assert "Anything you want your care team to know?" in asked
    done = text(client, "skip").content.decode()
    assert "answers are saved" in done
    response = Response.objects.get(patient=maria)
    assert response.status == "complete" and response.submitted_at is not None
    assert dict(Answer.objects.filter(response=response).values_list("item_code", "value")) == {
        "mood": 6,
        "sleep": 3,
        "note": None,
    }
    assert ContactPreference.objects.get().text_response is None
    # A reply after it was sent gets a kind answer and changes nothing.
    late = text(client, "2").content.decode()
    assert "nothing was saved" in late
    assert _mood_answers(maria) == [6]


@pytest.mark.django_db
def test_a_substance_use_program_asks_craving_by_text_too(client, daily_on, texting):
    from tether.checkins.models import ProgramInstrument
    from tether.organizations.models import Program

    maria = daily_on.patient.patient
    Program.objects.filter(pk=maria.episodes.get().program_id).update(treats_substance_use=True)
    assert ProgramInstrument.objects.filter(program=daily_on.iop).exists()
    text(client, "5")
    asked = text(client, "2").content.decode()
    assert "How strong were your cravings today?" in asked
    text(client, "3")
    text(client, "none")
    answers = dict(Answer.objects.filter(response__patient=maria).values_list("item_code", "value"))
    assert answers == {"mood": 5, "sleep": 2, "craving": 3, "note": None}
    assert Response.objects.get(patient=maria).status == "complete"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "reply,value", [("7/10", 7), ("seven", 7), ("I'm a 3 today", 3), ("10", 10), ("0", 0)]
)
def test_it_reads_replies_leniently(client, daily_on, texting, reply, value):
    text(client, reply)
    assert _mood_answers(daily_on.patient.patient) == [value]


@pytest.mark.django_db
def test_a_reply_it_cannot_read_gets_one_clarifying_answer(client, daily_on, texting):
    first = text(client, "banana 🍌")
    second = text(client, "11")
    third = text(client, "x" * 2000)
    assert "did not understand" in first.content.decode()
    assert "How is your mood today?" in first.content.decode()
    assert "<Message>" not in second.content.decode()
    assert "<Message>" not in third.content.decode()
    assert _mood_answers(daily_on.patient.patient) == []
    # Nothing lost: every text is kept (encrypted) against Maria.
    assert InboundMessage.objects.filter(patient=daily_on.patient.patient).count() == 3


@pytest.mark.django_db
def test_the_same_message_sid_twice_is_handled_once(client, daily_on, texting):
    text(client, "6", sid="SMreplay")
    again = text(client, "6", sid="SMreplay")
    assert again.status_code == 200
    assert "<Message>" not in again.content.decode()
    assert InboundMessage.objects.count() == 1
    assert OutboundMessage.objects.count() == 1


@pytest.mark.django_db
def test_a_forged_signature_is_refused_audited_and_stores_nothing(client, daily_on, texting):
    data = {"MessageSid": "SMforged", "From": MARIA_PHONE, "Body": "7"}
    forged = signed_post(client, "outreach:twilio_inbound", data, token="wrong-token")
    unsigned = client.post("/outreach/twilio/inbound/", data)
    assert forged.status_code == 403 and unsigned.status_code == 403
    assert not InboundMessage.objects.exists()
    assert _mood_answers(daily_on.patient.patient) == []
    assert AuditEvent.objects.filter(outcome="denied", patient=None).count() == 2


@pytest.mark.django_db
def test_stop_stops_every_later_text_and_is_confirmed_once(client, daily_on, texting):
    first = text(client, "STOP")
    second = text(client, "stop")
    assert "no more texts" in first.content.decode()
    assert "<Message>" not in second.content.decode()
    pref = ContactPreference.objects.get()
    assert pref.sms_stopped_at is not None and not pref.sms_allowed
    consent = (
        pref.patient.smsconsentevent_set if hasattr(pref.patient, "smsconsentevent_set") else None
    )
    assert consent is None  # no reverse accessor: records are read from their own table
    from tether.outreach.models import SmsConsentEvent

    assert list(SmsConsentEvent.objects.values_list("change", "method", "keyword")) == [
        ("opt_out", "keyword", "STOP")
    ]
    # A later check-in answer is still recorded, but nothing is texted back.
    later = text(client, "5")
    assert "<Message>" not in later.content.decode()
    assert _mood_answers(daily_on.patient.patient) == [5]


@pytest.mark.django_db
@pytest.mark.parametrize("word", ["STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"])
def test_every_stop_word_stops(client, daily_on, texting, word):
    text(client, word)
    assert ContactPreference.objects.get().sms_stopped_at is not None


@pytest.mark.django_db
def test_start_resumes_and_help_answers_with_988(client, daily_on, texting, settings):
    settings.TETHER_SMS_HELP_PHONE = "(413) 555-0100"
    text(client, "STOP")
    started = text(client, "START")
    assert "Texts are on again" in started.content.decode()
    assert ContactPreference.objects.get().sms_allowed
    helped = text(client, "HELP").content.decode()
    assert "988" in helped and "(413) 555-0100" in helped and "Adult IOP" not in helped


@pytest.mark.django_db
def test_an_unknown_number_gets_a_neutral_reply_and_nothing_is_stored_against_anyone(
    client, daily_on, texting
):
    response = text(client, "I want to kill myself", sender="+14135550177")
    assert "988" in response.content.decode()
    inbound = InboundMessage.objects.get()
    assert inbound.patient is None and inbound.body is None and inbound.handling == "unknown"
    assert not UrgentContactRequest.objects.exists()


@pytest.mark.django_db
def test_a_number_shared_by_two_patients_records_nothing_against_either(client, daily_on, texting):
    ContactPreference.objects.create(
        organization=daily_on.organization,
        patient=daily_on.other_patient.patient,
        sms_phone=MARIA_PHONE,
        by_sms=True,
        daily_checkin_by_text=True,
    )
    text(client, "8")
    assert not Answer.objects.exists()
    assert InboundMessage.objects.get().patient is None


@pytest.mark.django_db
def test_a_crisis_text_raises_an_urgent_request_and_sends_the_crisis_numbers(
    client, daily_on, texting
):
    maria = daily_on.patient.patient
    response = text(client, "I want to kill myself")
    body = response.content.decode()
    assert "988" in body and "911" in body and "555-0100" in body
    request = UrgentContactRequest.objects.get(patient=maria)
    assert request.status == UrgentContactRequest.Status.OPEN
    assert OutboundMessage.objects.filter(patient=maria, kind="crisis_numbers").count() == 1
    # The words reach the care team in the patient's thread, as a message typed there would.
    from tether.messaging.models import Message

    assert (
        Message.objects.get(thread__patient=maria, author_kind="patient").urgent_request == request
    )
    assert InboundMessage.objects.get().handling == "crisis"


@pytest.mark.django_db
def test_a_number_with_crisis_words_is_recorded_and_routed(client, daily_on, texting):
    maria = daily_on.patient.patient
    text(client, "2, I want to die")
    assert _mood_answers(maria) == [2]
    assert UrgentContactRequest.objects.filter(patient=maria).exists()


@pytest.mark.django_db
def test_a_reply_after_the_check_in_was_sent_is_answered_kindly(client, daily_on, texting):
    text(client, "6")
    Response.objects.filter(patient=daily_on.patient.patient).update(
        status="incomplete", submitted_at="2026-01-01T00:00Z"
    )
    late = text(client, "4")
    assert "nothing was saved" in late.content.decode()
    assert _mood_answers(daily_on.patient.patient) == [6]


@pytest.mark.django_db
def test_phq9_by_text_one_item_per_message_and_item_9_starts_the_crisis_pathway(
    client, daily_on, texting
):
    from tether.checkins.models import ProgramInstrument

    maria = daily_on.patient.patient
    ProgramInstrument.objects.filter(program=daily_on.iop).delete()
    ProgramInstrument.objects.create(
        organization=daily_on.organization,
        program=daily_on.iop,
        instrument_code="phq9",
        schedule=ProgramInstrument.Schedule.WEEKLY,
    )
    ContactPreference.objects.filter(pk=texting.pk).update(text_offer="phq9")
    first = text(client, "ok").content.decode()
    assert "Over the last 2 weeks" in first and "Question 1 of 10:" in first
    assert "Little interest or pleasure in doing things" in first
    for _ in range(7):
        text(client, "not at all")
    ninth = text(client, "several days").content.decode()  # item 8
    assert "Question 9 of 10:" in ninth
    assert not UrgentContactRequest.objects.filter(patient=maria).exists()
    answer9 = text(client, "1").content.decode()
    # The crisis numbers in the same answer, and the request already raised.
    assert "988" in answer9 and "911" in answer9
    assert UrgentContactRequest.objects.filter(patient=maria).exists()
    assert "Question 10 of 10:" in answer9
    done = text(client, "0").content.decode()
    assert "answers are saved" in done
    response = Response.objects.get(patient=maria, instrument__code="phq9")
    assert response.status == "complete" and response.total == 2
    # No score reached the phone.
    assert not any("/27" in m.body for m in OutboundMessage.objects.filter(patient=maria))
