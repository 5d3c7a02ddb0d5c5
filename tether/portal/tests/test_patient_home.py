from __future__ import annotations

from django.urls import reverse

from tether.privacy.models import AuditEvent

URL = reverse("portal:home")


def test_it_greets_the_patient_and_shows_their_next_session(cast, client_as, book):
    book(cast.patient, days=2, title="Mindfulness group")
    body = client_as(cast.patient).get(URL).content.decode()
    assert "Hi Maria" in body
    assert "Your next session is <strong>Mindfulness group</strong> on" in body
    assert "Adult IOP" in body
    assert 'href="tel:555-0100"' in body  # the program's 24-hour crisis line


def test_it_says_plainly_when_nothing_is_scheduled(cast, client_as):
    body = client_as(cast.patient).get(URL).content.decode()
    assert "No sessions are scheduled yet." in body


def test_it_shows_only_the_patients_own_sessions(cast, client_as, book):
    book(cast.other_patient, title="Tom's private session")
    body = client_as(cast.patient).get(URL).content.decode()
    assert "Tom&#x27;s private session" not in body and "Tom's private session" not in body


def test_it_hides_cancelled_and_past_sessions(cast, client_as, book):
    cancelled = book(cast.patient, title="Cancelled group")
    cancelled.appointment.is_cancelled = True
    cancelled.appointment.save(update_fields=["is_cancelled"])
    book(cast.patient, days=-1, title="Yesterday's group")
    body = client_as(cast.patient).get(URL).content.decode()
    assert "Cancelled group" not in body
    assert "Yesterday" not in body


def test_it_shows_the_crisis_bar(cast, client_as):
    body = client_as(cast.patient).get(URL).content.decode()
    assert "Need help now?" in body
    assert 'href="tel:988"' in body


def test_it_records_the_patients_own_look_in_the_audit_trail(cast, client_as):
    client_as(cast.patient).get(URL)
    # The home page also reads what check-ins are due (self_report, audited apart).
    event = AuditEvent.objects.filter(patient=cast.patient.patient, category="general").latest("id")
    assert (event.action, event.category, event.outcome) == ("view", "general", "allowed")
    assert event.actor_id == cast.patient.pk


def test_it_checks_access(cast, client_as):
    assert client_as(cast.patient).get(URL).status_code == 200
    for persona in ("parent", "assigned_clinician", "front_desk", "other_org_clinician"):
        assert client_as(getattr(cast, persona)).get(URL).status_code == 404, persona


def test_it_sends_a_new_patient_to_the_welcome_page_first(cast, client_as):
    cast.patient.has_seen_welcome = False
    cast.patient.save(update_fields=["has_seen_welcome"])
    response = client_as(cast.patient).get(reverse("home"))
    assert response["Location"] == reverse("portal:welcome")
