"""Issue 13 item 4: Part 2 records through side doors.

A program lead and an on-call clinician who are not on the care team of a patient in a
Part 2 program (the decision table: no Part 2) must not read Part 2 records on pages
that exist for other reasons: the staff safety-plan page, the staff patient page's
homework titles and safety-plan author, the care-coordination page (tested in
tether/consent/tests/test_staff_coordination.py) and the urgent-request page's quote of
the crisis phrase. Each page says what it hides and why, and offers emergency access
(42 CFR 2.51) where a crisis may need it; with a break-glass grant they see it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tether.crisis.models import UrgentContactRequest
from tether.homework.library import builtin_library
from tether.homework.services import assignment_create
from tether.messaging import services as messaging_services
from tether.privacy.models import AuditEvent, BreakGlassGrant, Purpose
from tether.safetyplan.services import safety_plan_save

NOT_ON_THE_CARE_TEAM = ("clinical_lead", "on_call")
PLAN_WORDS = "Call my sponsor before the bar"


@pytest.fixture
def recovery(cast):
    """Maria in a program that treats substance use, with a Part 2 safety plan, a Part 2
    relapse-prevention assignment and an urgent request raised by crisis words in a Part 2
    message."""
    cast.iop.treats_substance_use = True
    cast.iop.save(update_fields=["treats_substance_use"])
    patient = cast.patient.patient
    safety_plan_save(
        patient=patient,
        author=cast.assigned_clinician,
        content={"warning_signs": PLAN_WORDS},
        based_on=0,
        purpose=Purpose.TREATMENT,
    )
    assignment_create(
        patient=patient,
        definition=builtin_library()["relapse_prevention"],
        assigned_by=cast.assigned_clinician,
        due_on=timezone.localdate() + dt.timedelta(days=3),
    )
    messaging_services.message_send_by_patient(
        patient=patient, author=cast.patient, body="I want to kill myself tonight"
    )
    return patient


def test_the_staff_safety_plan_page_says_it_is_hidden_and_why(cast, client_as, recovery):
    url = reverse("safety_plan:staff_view", args=[recovery.pk])
    for persona in NOT_ON_THE_CARE_TEAM:
        user = getattr(cast, persona)
        page = client_as(user).get(url)
        text = page.content.decode()
        assert page.status_code == 200, persona
        assert PLAN_WORDS not in text and "Dana" not in text, persona
        assert "42 CFR Part 2" in text and "Ask for emergency access" in text, persona
        events = AuditEvent.objects.filter(actor=user, patient=recovery)
        assert events.filter(category="part2", outcome="denied").exists(), persona
        assert not events.filter(category="shared", outcome="allowed").exists(), persona
    own = client_as(cast.assigned_clinician).get(url).content.decode()
    assert PLAN_WORDS in own
    assert AuditEvent.objects.filter(
        actor=cast.assigned_clinician, patient=recovery, category="part2", outcome="allowed"
    ).exists()


def test_the_staff_patient_page_hides_part2_homework_titles_and_the_plan_author(
    cast, client_as, recovery
):
    url = reverse("staff:patient_detail", args=[recovery.pk])
    for persona in NOT_ON_THE_CARE_TEAM:
        text = client_as(getattr(cast, persona)).get(url).content.decode()
        assert "Relapse-prevention plan" not in text, persona
        assert "saved by Dana" not in text, persona
        assert "1 assignment is hidden from you" in text, persona
        assert "The safety plan, if there is one, is not shown to you" in text, persona
        assert "No safety plan yet" not in text, persona
    own = client_as(cast.assigned_clinician).get(url).content.decode()
    assert "Relapse-prevention plan" in own and "saved by Dana" in own


def test_the_urgent_request_page_withholds_a_part2_messages_words(cast, client_as, recovery):
    urgent = UrgentContactRequest.objects.get(patient=recovery)
    url = reverse("crisis:staff_request", args=[urgent.pk])
    for persona in NOT_ON_THE_CARE_TEAM:
        text = client_as(getattr(cast, persona)).get(url).content.decode()
        assert "kill myself" not in text, persona
        assert "The words are not shown to you" in text, persona
        # What on-call needs to act in a crisis stays: the phone and the buttons.
        assert "Acknowledge" in text, persona
    own = client_as(cast.assigned_clinician).get(url).content.decode()
    assert "kill myself" in own


def test_on_call_still_takes_a_part2_patients_urgent_request(cast, client_as, recovery):
    urgent = UrgentContactRequest.objects.get(patient=recovery)
    client = client_as(cast.on_call)
    client.post(reverse("crisis:staff_request_acknowledge", args=[urgent.pk]))
    urgent.refresh_from_db()
    assert urgent.acknowledged_by == cast.on_call


def test_emergency_access_opens_the_plan_and_the_words(cast, client_as, recovery):
    now = timezone.now()
    BreakGlassGrant.objects.create(
        organization_id=recovery.organization_id,
        user=cast.on_call,
        patient=recovery,
        reason="risk_now: patient in crisis and the care team cannot be reached",
        started_at=now - dt.timedelta(minutes=1),
        expires_at=now + dt.timedelta(minutes=59),
    )
    client = client_as(cast.on_call)
    plan = client.get(reverse("safety_plan:staff_view", args=[recovery.pk])).content.decode()
    assert PLAN_WORDS in plan
    urgent = UrgentContactRequest.objects.get(patient=recovery)
    words = client.get(reverse("crisis:staff_request", args=[urgent.pk])).content.decode()
    assert "kill myself" in words
    assert AuditEvent.objects.filter(
        actor=cast.on_call, patient=recovery, category="part2", acting_as="break_glass"
    ).exists()
