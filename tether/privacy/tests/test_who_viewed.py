"""Who has looked at my record: the patient's plain-words view of their trail."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tether.privacy import audit
from tether.privacy.models import AuditEvent, BreakGlassGrant, Purpose
from tether.privacy.policy import Action, Category, Relation

URL = reverse("privacy:who_viewed")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")  # the cast's programs' time zone


def _event(
    actor,
    patient,
    *,
    when=None,
    action=Action.VIEW,
    category=Category.GENERAL,
    relation=Relation.CARE_TEAM,
    acting_as="",
    outcome=AuditEvent.Outcome.ALLOWED,
    obj=None,
) -> AuditEvent:
    with mock.patch("django.utils.timezone.now", return_value=when or timezone.now()):
        return audit.record(
            request=None,
            actor=actor,
            patient=patient,
            action=action,
            category=category,
            purpose=Purpose.TREATMENT,
            outcome=outcome,
            relation=relation,
            acting_as=acting_as,
            obj=obj,
        )


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.mark.parametrize(
    "persona", ["assigned_clinician", "clinical_lead", "privacy_officer", "front_desk", "parent"]
)
def test_it_checks_access(cast, client_as, persona):
    assert client_as(getattr(cast, persona)).get(URL).status_code == 404


def test_it_sends_anonymous_people_to_sign_in(cast, client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_it_is_linked_from_the_patients_home(cast, client_as):
    body = client_as(cast.patient).get(reverse("portal:home")).content.decode()
    assert URL in body and "Who has looked at my record" in body


def test_it_tells_the_patient_in_plain_words_who_looked_and_when(cast, client_as):
    when = dt.datetime(2026, 3, 3, 14, 15, tzinfo=NEW_YORK)
    _event(cast.assigned_clinician, cast.patient.patient, when=when)
    response = client_as(cast.patient).get(URL)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    text = _text(response)
    assert "Tuesday, March 3" in text
    assert "A clinician on your care team looked at your record at 2:15 PM." in text
    assert "Dana" not in text  # roles, not names


def test_it_shows_only_the_patients_own_record(cast, client_as):
    _event(cast.assigned_clinician, cast.patient.patient)
    text = _text(client_as(cast.other_patient).get(URL))
    assert "No one else has looked at your record yet." in text
    assert "care team looked" not in text


def test_it_leaves_out_the_patients_own_visits_and_refused_attempts(cast, client_as):
    client = client_as(cast.patient)
    client.get(reverse("portal:home"))  # the patient's own view is audited ...
    client.get(URL)
    client_as(cast.unassigned_clinician).get(
        reverse("staff:patient_detail", args=[cast.patient.patient.pk])
    )  # ... and so is a refused attempt, which saw nothing
    assert AuditEvent.objects.filter(patient=cast.patient.patient).count() >= 3
    text = _text(client_as(cast.patient).get(URL))
    assert "No one else has looked at your record yet." in text


def test_it_groups_by_day_in_the_programs_time_zone(cast, client_as):
    patient = cast.patient.patient
    # 11:30 PM in New York on March 2 (already March 3 in UTC), then the next morning.
    _event(cast.assigned_clinician, patient, when=dt.datetime(2026, 3, 2, 23, 30, tzinfo=NEW_YORK))
    _event(
        cast.clinical_lead,
        patient,
        when=dt.datetime(2026, 3, 3, 9, 5, tzinfo=NEW_YORK),
        action=Action.UPDATE,
        relation=Relation.PROGRAM_LEAD,
    )
    text = _text(client_as(cast.patient).get(URL))
    march_3 = text.index("Tuesday, March 3")
    march_2 = text.index("Monday, March 2")
    assert march_3 < march_2  # newest day first
    assert (
        "The clinical lead of your program changed your record at 9:05 AM." in text[march_3:march_2]
    )
    assert "A clinician on your care team looked at your record at 11:30 PM." in text[march_2:]


def test_it_counts_repeated_looks_by_the_same_person(cast, client_as):
    start = dt.datetime(2026, 3, 3, 9, 0, tzinfo=NEW_YORK)
    for minutes in (0, 30, 125):
        _event(
            cast.assigned_clinician,
            cast.patient.patient,
            when=start + dt.timedelta(minutes=minutes),
            category=Category.SELF_REPORT,
        )
    text = _text(client_as(cast.patient).get(URL))
    assert (
        "A clinician on your care team looked at your check-ins and answers 3 times, "
        "between 9:00 AM and 11:05 AM." in text
    )


def test_it_says_when_a_clinician_used_emergency_access(cast, client_as):
    patient = cast.patient.patient
    now = timezone.now()
    grant = BreakGlassGrant.objects.create(
        organization=cast.organization,
        user=cast.unassigned_clinician,
        patient=patient,
        reason="imminent_risk: patient called the crisis line",
        started_at=now,
        expires_at=now + dt.timedelta(hours=1),
    )
    _event(
        cast.unassigned_clinician,
        patient,
        action=Action.CREATE,
        relation="",
        acting_as=Relation.BREAK_GLASS,
        obj=grant,
    )
    _event(
        cast.unassigned_clinician,
        patient,
        category=Category.MENTAL_HEALTH,
        relation=Relation.BREAK_GLASS,
        acting_as=Relation.BREAK_GLASS,
    )
    text = _text(client_as(cast.patient).get(URL))
    assert "A clinician used emergency access to open your record at" in text
    assert "A clinician used emergency access and looked at your treatment record at" in text
    assert "crisis line" not in text


def test_it_tells_a_teen_when_their_parent_looked(cast, client_as):
    client_as(cast.parent).get(reverse("portal:family_home"))
    text = _text(client_as(cast.adolescent).get(URL))
    assert "A family member you share your record with looked at your record at" in text


def test_it_pages_and_costs_the_same_queries_whatever_the_history(cast, client_as):
    patient = cast.patient.patient
    client = client_as(cast.patient)
    _event(cast.assigned_clinician, patient)
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    start = timezone.now() - dt.timedelta(days=80)
    for day in range(60):
        _event(cast.assigned_clinician, patient, when=start + dt.timedelta(days=day))
    with CaptureQueriesContext(connection) as many:
        response = client.get(URL)
    assert len(many) == len(few)
    assert "Page 1 of 2" in _text(response)
    assert "Page 2 of 2" in _text(client.get(URL + "?page=2"))


def test_it_gives_one_time_for_looks_in_the_same_minute(cast, client_as):
    start = dt.datetime(2026, 3, 3, 9, 0, 5, tzinfo=NEW_YORK)
    for seconds in (0, 40):
        _event(
            cast.assigned_clinician,
            cast.patient.patient,
            when=start + dt.timedelta(seconds=seconds),
        )
    text = _text(client_as(cast.patient).get(URL))
    assert "A clinician on your care team looked at your record 2 times, at 9:00 AM." in text
