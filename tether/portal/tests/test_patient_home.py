from __future__ import annotations

from django.db import connection
from django.urls import reverse

from tether.privacy.models import AuditEvent
from tether.testing.cast import Cast

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


def _with_measures(cast: Cast) -> None:
    """The adult IOP asks a daily check-in, a weekly PHQ-9 and a GAD-7 before sessions."""
    from tether.checkins.models import ProgramInstrument
    from tether.checkins.sync import sync_instruments

    sync_instruments()
    for code, schedule in (
        ("daily", ProgramInstrument.Schedule.DAILY),
        ("phq9", ProgramInstrument.Schedule.WEEKLY),
        ("gad7", ProgramInstrument.Schedule.BEFORE_SESSION),
    ):
        ProgramInstrument.objects.create(
            organization=cast.organization,
            program=cast.iop,
            instrument_code=code,
            schedule=schedule,
        )


def test_it_asks_the_gate_once_for_each_category_it_shows(cast, client_as):
    _with_measures(cast)
    client = client_as(cast.patient)
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    assert client.get(URL).status_code == 200
    events = AuditEvent.objects.filter(id__gt=last, patient=cast.patient.patient)
    # general: the patient, program, sessions, sharing; shared: homework and messages
    # (written with the care team); self_report: which check-ins are due.
    assert sorted(events.values_list("category", flat=True)) == [
        "general",
        "self_report",
        "shared",
    ]
    assert set(events.values_list("outcome", "purpose")) == {("allowed", "PATRQT")}


def test_it_offers_the_questionnaire_before_the_next_session(cast, client_as, book):
    _with_measures(cast)
    book(cast.patient, days=3, title="Far group")
    book(cast.patient, days=1, title="Tomorrow's group")
    body = client_as(cast.patient).get(URL).content.decode()
    assert "A short questionnaire before" in body
    assert "Tomorrow&#x27;s group" in body.split("A short questionnaire before")[1][:80]


# Session; the user, read with whether they have an MFA device, their program's time
# zone and their patient row (one query, ``UsernameOrEmailBackend.get_user``); the
# patient's own record decided on that row (no query); the episode and the sessions; the
# homework and messages cards and what check-ins are due through the gate (shared,
# self_report: decided once per request, no query); then 3 reads for the check-ins due,
# the next session taken from the sessions already read; the thread's unread reply and an
# open urgent request (one statement), homework, consents; the crisis link's program taken from the episode already
# read; the page's three audit rows written together at its end (one statement on
# PostgreSQL, the events and their places in the sealer's queue; two inserts on SQLite).
# Was 25: the gate's second read of the patient and two audit rows' 2 + 2 inserts are gone
# (issue #20); then less the MFA device's, the time zone's and the patient id's own
# queries (now read with the user); then less the gate's own read of the patient and the
# crisis link's own read of the program; then the thread and the open request read as one.
HOME_QUERIES = 11 if connection.vendor == "postgresql" else 12


def test_it_costs_the_same_few_queries_however_much_is_on_it(
    cast, client_as, book, django_assert_num_queries
):
    _with_measures(cast)
    client = client_as(cast.patient)
    book(cast.patient, days=1)
    client.get(URL)  # warm up (the session, the chain head)
    with django_assert_num_queries(HOME_QUERIES):
        assert client.get(URL).status_code == 200
    for days in (2, 3, 4, 5, 6, 7):
        book(cast.patient, days=days)
    with django_assert_num_queries(HOME_QUERIES):
        assert client.get(URL).status_code == 200
