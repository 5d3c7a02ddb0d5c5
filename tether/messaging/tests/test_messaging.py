from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any
from unittest import mock

from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tether.crisis.models import UrgentContactRequest
from tether.messaging import services
from tether.messaging.models import InternalNote, Message, Thread
from tether.privacy.models import AuditEvent
from tether.testing.queries import page_queries

NY = zoneinfo.ZoneInfo("America/New_York")
MORNING = dt.datetime(2026, 11, 25, 10, 0, tzinfo=NY)
NIGHT = dt.datetime(2026, 11, 25, 22, 0, tzinfo=NY)


def _send(cast: Any, body: str, **kwargs: Any) -> Any:
    kwargs.setdefault("now", MORNING)
    return services.message_send_by_patient(
        patient=cast.patient.patient, author=cast.patient, body=body, **kwargs
    )


def test_it_shows_the_boundaries_where_the_patient_writes(cast, client_as):
    page = client_as(cast.patient).get(reverse("messaging:thread")).content.decode()
    assert "within 1 business day; up to 48 hours" in page
    assert "Office hours: Monday to Friday, 9:00 AM to 5:00 PM" in page
    assert "Messages are not for emergencies." in page
    assert 'href="tel:988"' in page
    assert reverse("crisis:crisis") in page


def test_it_sends_a_message_and_says_who_answered(cast, client_as):
    client = client_as(cast.patient)
    response = client.post(
        reverse("messaging:send"),
        {"body": "Can I move Thursday's group?", "idempotency_key": str(uuid.uuid4())},
    )
    assert response.status_code == 302
    thread = Thread.objects.get()
    services.message_send_by_staff(
        thread=thread, author=cast.assigned_clinician, body="Yes, 2 PM works."
    )
    page = client.get(reverse("messaging:thread")).content.decode()
    assert "Can I move Thursday&#x27;s group?" in page
    assert "Dana Staff (Clinician) answered" in page
    assert "Yes, 2 PM works." in page


def test_it_stores_messages_encrypted(cast):
    _send(cast, "A private sentence")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM messaging_message")
        stored = cursor.fetchone()[0]
    assert "private" not in stored
    assert stored.startswith("tether:v1:")


def test_it_records_a_double_submitted_message_once(cast, client_as):
    client = client_as(cast.patient)
    key = str(uuid.uuid4())
    for _ in range(2):
        client.post(reverse("messaging:send"), {"body": "Hello team", "idempotency_key": key})
    assert Message.objects.filter(author_kind="patient").count() == 1
    assert AuditEvent.objects.filter(object_type="messaging.message", action="create").count() == 1


def test_it_refuses_empty_and_oversized_messages_with_a_clear_message(cast, client_as):
    client = client_as(cast.patient)
    empty = client.post(reverse("messaging:send"), {"body": "   "})
    assert empty.status_code == 400
    assert "Write a message before sending." in empty.content.decode()
    huge = client.post(reverse("messaging:send"), {"body": "x" * 4001})
    assert huge.status_code == 400
    assert "Please keep it under 4000" in huge.content.decode()
    assert Message.objects.count() == 0


def test_it_turns_away_a_patient_posting_into_another_thread(cast, client_as):
    thread = services.thread_for(cast.other_patient.patient)
    client = client_as(cast.patient)
    for name in ("messaging:staff_reply", "messaging:staff_note", "messaging:staff_thread"):
        method = client.get if name == "messaging:staff_thread" else client.post
        response = method(reverse(name, args=[thread.pk]), {"body": "hi", "note": "hi"})
        assert response.status_code == 404
    assert Message.objects.count() == 0


def test_it_raises_the_crisis_pathway_on_crisis_language(cast, client_as):
    result = _send(cast, "I don't want to be alive anymore", now=NIGHT)
    urgent = UrgentContactRequest.objects.get()
    assert urgent.source == "message"
    assert result.message.trigger == "phrase"
    auto = Message.objects.get(author_kind="system")
    assert auto.auto_reply == "crisis"
    staff_page = client_as(cast.on_call).get(reverse("crisis:staff_request", args=[urgent.pk]))
    assert "Crisis language in a message" in staff_page.content.decode()
    assert "dont want to be alive" in staff_page.content.decode()
    patient_page = client_as(cast.patient).get(reverse("messaging:thread")).content.decode()
    assert "We have asked your care team to contact you urgently" in patient_page
    assert "dont want to be alive" not in patient_page  # staff see why; the patient does not


def test_it_raises_the_crisis_pathway_when_marked_urgent(cast):
    result = _send(cast, "Please call me today", marked_urgent=True)
    assert result.message.trigger == "marked_urgent"
    assert UrgentContactRequest.objects.count() == 1


def test_it_does_not_raise_anything_for_an_ordinary_message(cast):
    _send(cast, "This homework is killing me, can we go over it?")
    assert UrgentContactRequest.objects.count() == 0
    assert Message.objects.filter(author_kind="system").count() == 0  # office hours: no auto reply


def test_it_replies_automatically_after_hours_once(cast, client_as):
    _send(cast, "Question about my bill", now=NIGHT)
    _send(cast, "And one more thing", now=NIGHT + dt.timedelta(minutes=5))
    assert Message.objects.filter(auto_reply="after_hours").count() == 1
    page = client_as(cast.patient).get(reverse("messaging:thread")).content.decode()
    assert "The office is closed now, so your care team will read it when the office opens" in page


def test_it_tells_the_patient_when_the_message_did_not_go_through(cast, client_as):
    with mock.patch.object(
        services, "message_send_by_patient", side_effect=OperationalError("down")
    ):
        response = client_as(cast.patient).post(reverse("messaging:send"), {"body": "hello"})
    assert response.status_code == 503
    assert "did not go through" in response.content.decode()
    assert 'href="tel:988"' in response.content.decode()


def test_it_keeps_internal_notes_from_the_patient(cast, client_as):
    _send(cast, "Hi")
    thread = Thread.objects.get()
    staff = client_as(cast.assigned_clinician)
    staff.post(
        reverse("messaging:staff_note", args=[thread.pk]), {"note": "Discuss in supervision"}
    )
    assert InternalNote.objects.count() == 1
    assert (
        "Discuss in supervision"
        in staff.get(reverse("messaging:staff_thread", args=[thread.pk])).content.decode()
    )
    assert (
        "Discuss in supervision"
        not in client_as(cast.patient).get(reverse("messaging:thread")).content.decode()
    )


def test_it_checks_access_to_a_thread(cast, client_as):
    _send(cast, "Hi")
    thread = Thread.objects.get()
    url = reverse("messaging:staff_thread", args=[thread.pk])
    for persona in ("assigned_clinician", "clinical_lead", "on_call"):
        assert client_as(getattr(cast, persona)).get(url).status_code == 200, persona
    for persona in (
        "unassigned_clinician",
        "front_desk",
        "program_admin",
        "privacy_officer",
        "other_org_clinician",
        "patient",
        "parent",
    ):
        assert client_as(getattr(cast, persona)).get(url).status_code == 404, persona
    # The lead may read but only the care team may answer.
    lead = client_as(cast.clinical_lead)
    assert (
        lead.post(reverse("messaging:staff_reply", args=[thread.pk]), {"body": "x"}).status_code
        == 404
    )
    team = client_as(cast.assigned_clinician)
    assert (
        team.post(reverse("messaging:staff_reply", args=[thread.pk]), {"body": "Hello"}).status_code
        == 302
    )


def test_it_lists_overdue_and_unread_first_with_response_times(
    cast, client_as, django_assert_max_num_queries
):
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=60)
    services.message_send_by_patient(
        patient=cast.other_patient.patient, author=cast.other_patient, body="Old question", now=old
    )
    answered = services.message_send_by_patient(
        patient=cast.patient.patient, author=cast.patient, body="Hi", now=old
    )
    services.message_send_by_staff(
        thread=answered.message.thread,
        author=cast.assigned_clinician,
        body="Hello",
        now=old + dt.timedelta(hours=3),
    )
    client = client_as(cast.clinical_lead)
    url = reverse("messaging:inbox")
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        page = client.get(url).content.decode()
    assert len(page_queries(small.captured_queries)) <= 40
    assert page.index("Tom Baker") < page.index("Maria Garcia")
    assert "Overdue" in page
    assert "3.0" in page  # Dana's median response, in hours
    from tether.messaging.selectors import response_times
    from tether.patients.models import Patient

    times = response_times(patients=Patient.objects.all(), since=old - dt.timedelta(days=1))
    assert [(f.who, f.replies, f.median_hours) for f in times.per_program] == [
        ("Adult IOP", 1, 3.0)
    ]
    assert [(f.who, f.median_hours) for f in times.per_clinician] == [("Dana Staff", 3.0)]
    from tether.testing.cast import make_patient

    for i in range(5):
        user = make_patient(
            cast.organization,
            cast.iop,
            f"extra{i}",
            first_name="E",
            last_name=f"X{i}",
            clinician=cast.assigned_clinician,
        )
        services.message_send_by_patient(patient=user.patient, author=user, body="hey")
    # The page's own queries stay the same; its audit rows are one per patient shown.
    with CaptureQueriesContext(connection) as large:
        client.get(url)
    assert len(page_queries(large.captured_queries)) <= len(page_queries(small.captured_queries))


def test_it_shows_messages_and_crisis_use_on_the_staff_patient_page(cast, client_as):
    _send(cast, "I want to kill myself")  # crisis language: the system raised it
    _send(cast, "Please call me", marked_urgent=True)  # the patient asked
    url = reverse("staff:patient_detail", args=[cast.patient.patient.pk])
    page = client_as(cast.assigned_clinician).get(url).content.decode()
    assert "Open urgent request." in page
    assert "Crisis pathway used (the patient asked for urgent help) 1 time in the last" in page
    front_desk_page = client_as(cast.front_desk).get(url).content.decode()
    assert "Crisis pathway used" not in front_desk_page  # no access to shared records


def test_it_shows_new_replies_and_an_open_request_on_the_patient_home(cast, client_as):
    _send(cast, "Please call me", marked_urgent=True)
    thread = Thread.objects.get()
    services.message_send_by_staff(
        thread=thread, author=cast.assigned_clinician, body="Calling you now."
    )
    client = client_as(cast.patient)
    page = client.get(reverse("portal:home")).content.decode()
    assert "Your urgent request is with your care team." in page
    request = UrgentContactRequest.objects.get(patient=cast.patient.patient)
    assert reverse("crisis:urgent_status", args=[request.pk]) in page
    assert "You have a new reply from your care team." in page
    client.get(reverse("messaging:thread"))
    assert "new reply" not in client.get(reverse("portal:home")).content.decode()


def test_a_message_keeps_its_line_breaks_and_loses_its_control_characters(cast, client_as):
    client_as(cast.patient).post(
        reverse("messaging:send"), {"body": "Line one\r\nline two\x00\x07", "idempotency_key": ""}
    )
    assert Message.objects.get(author=cast.patient).body == "Line one\nline two"
