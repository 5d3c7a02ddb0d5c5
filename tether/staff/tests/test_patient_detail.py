from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tether.patients.models import Episode
from tether.privacy.models import AuditEvent
from tether.reports.testing import session
from tether.scheduling.models import Attendance
from tether.testing.queries import page_queries


def _url(user) -> str:
    return reverse("staff:patient_detail", args=[user.patient.pk])


def test_it_shows_the_patients_overview(cast, client_as):
    response = client_as(cast.assigned_clinician).get(_url(cast.patient))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Maria Garcia" in body
    assert "MRN-maria.g" in body
    assert "Adult IOP" in body
    assert "Dana Staff (Primary therapist)" in body


def test_it_offers_a_reset_code_once_the_patient_has_a_password(cast, client_as):
    body = client_as(cast.front_desk).get(_url(cast.patient)).content.decode()
    assert "Give a password reset code" in body
    assert reverse("staff:reset_code_issue", args=[cast.patient.patient.pk]) in body


def test_it_offers_an_invite_before_the_patient_has_a_password(cast, client_as):
    cast.patient.set_unusable_password()
    cast.patient.save(update_fields=["password"])
    body = client_as(cast.front_desk).get(_url(cast.patient)).content.decode()
    assert "Not signed up yet." in body
    assert reverse("staff:invite_create", args=[cast.patient.patient.pk]) in body


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("assigned_clinician", 200),
        ("clinical_lead", 200),
        ("front_desk", 200),
        ("on_call", 200),
        ("program_admin", 200),
        ("unassigned_clinician", 404),
        ("other_org_clinician", 404),
        ("privacy_officer", 404),
        ("patient", 404),
        ("parent", 404),
    ],
)
def test_it_checks_access(cast, client_as, persona, status):
    response = client_as(getattr(cast, persona)).get(_url(cast.patient))
    assert response.status_code == status
    if status == 404:
        assert "Garcia" not in response.content.decode()


def test_it_gives_the_same_404_for_a_patient_that_does_not_exist(cast, client_as):
    client = client_as(cast.unassigned_clinician)
    hidden = client.get(_url(cast.patient))
    missing = client.get(reverse("staff:patient_detail", args=[999_999]))
    assert hidden.status_code == missing.status_code == 404


def test_it_records_every_look_in_the_audit_trail(cast, client_as):
    client_as(cast.assigned_clinician).get(_url(cast.patient))
    client_as(cast.unassigned_clinician).get(_url(cast.patient))
    patient = cast.patient.patient
    assert AuditEvent.objects.filter(
        actor=cast.assigned_clinician, patient=patient, action="view", outcome="allowed"
    ).exists()
    assert AuditEvent.objects.filter(
        actor=cast.unassigned_clinician, patient=patient, outcome="denied"
    ).exists()


def test_it_is_never_cached(cast, client_as):
    response = client_as(cast.assigned_clinician).get(_url(cast.patient))
    assert "no-store" in response["Cache-Control"]


def test_it_redirects_anonymous_people_to_sign_in(cast, client):
    response = client.get(_url(cast.patient))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_it_asks_about_the_patients_part2_programs_once(cast, client_as):
    """The consent card labels each of its packet's eight sections and the page its own
    records: one read of the patient's Part 2 programs for them all (it was ten)."""
    client = client_as(cast.assigned_clinician)
    client.get(_url(cast.patient))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(_url(cast.patient))
    assert response.status_code == 200
    own = page_queries(queries.captured_queries)
    # Statements that filter by the program's Part 2 flag (not those that merely read
    # the program's columns).
    asked = [sql for sql in own if "treats_substance_use" in sql.split(" WHERE ", 1)[-1]]
    assert len(asked) == 1, asked
    print(f"\npatient overview: {len(queries.captured_queries)} queries ({len(own)} its own)")


def test_it_shows_the_sessions_just_attended_beside_a_month_booked_ahead(cast, client_as):
    """Twenty booked sessions do not push the ones just attended off the overview: the
    next five are under "Coming up", the last ten under "Recent sessions"."""
    episode = Episode.objects.get(patient=cast.patient.patient, status=Episode.Status.ACTIVE)
    dana = cast.assigned_clinician.staff_member
    now = timezone.now()
    for day in range(1, 21):
        appointment = session(
            episode, dana, now + dt.timedelta(days=day), Attendance.Status.SCHEDULED
        ).appointment
        appointment.title = f"Booked {day}"
        appointment.save(update_fields=["title"])
    for day, status in ((1, Attendance.Status.ATTENDED), (2, Attendance.Status.ABSENT)):
        appointment = session(episode, dana, now - dt.timedelta(days=day), status).appointment
        appointment.title = f"Past {day}"
        appointment.save(update_fields=["title"])
    body = client_as(cast.assigned_clinician).get(_url(cast.patient)).content.decode()
    coming_up, recent = body.split("Coming up", 1)[1].split("Recent sessions", 1)
    assert [f"Booked {day}<" in coming_up for day in range(1, 7)] == [True] * 5 + [False]
    assert coming_up.index("Booked 1<") < coming_up.index("Booked 5<")
    assert "Past" not in coming_up
    assert "Past 1<" in recent and "Past 2<" in recent and "Did not attend" in recent
    assert recent.index("Past 1<") < recent.index("Past 2<")
    assert "Booked" not in recent
