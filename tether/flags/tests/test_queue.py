from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone

from tether.accounts.models import User
from tether.flags.models import Flag
from tether.flags.services import flags_sweep
from tether.flags.testing import add_response
from tether.patients.models import Episode
from tether.privacy.models import AuditEvent

URL = reverse("flags:queue")


def _silent_and_deteriorating(cast: Any) -> None:
    """Garcia stopped signing in 10 days ago; Kim's PHQ-9 rose by 9 points."""
    now = timezone.now()
    Episode.objects.update(admitted_on=(now - dt.timedelta(days=30)).date())
    User.objects.filter(kind="patient").update(last_login=now - dt.timedelta(hours=1))
    User.objects.filter(pk=cast.patient.pk).update(last_login=now - dt.timedelta(days=10))
    add_response(cast.adolescent.patient, "phq9", now - dt.timedelta(days=20), total=5)
    add_response(cast.adolescent.patient, "phq9", now - dt.timedelta(days=1), total=14)
    flags_sweep()


def test_it_ranks_flags_by_severity_then_age_with_the_reason(cast, client_as):
    _silent_and_deteriorating(cast)
    body = client_as(cast.clinical_lead).get(URL).content.decode()
    assert "Has not signed in to the portal for 7 days or more." in body
    assert body.index("PHQ-9 reliable deterioration") < body.index("Not signing in")
    assert "flags raised" in body


def test_it_documents_outreach_and_resolves_with_an_audit_trail(cast, client_as):
    _silent_and_deteriorating(cast)
    flag = Flag.objects.get(reason="no_login")
    client = client_as(cast.clinical_lead)
    act = reverse("flags:act", args=[flag.pk])
    client.post(act, {"step": "acknowledge"})
    response = client.post(act, {"step": "resolve", "action": "called", "note": "Left a voicemail"})
    assert response.status_code == 302
    flag.refresh_from_db()
    assert (flag.status, flag.action, flag.action_note) == ("closed", "called", "Left a voicemail")
    assert flag.acknowledged_by == cast.clinical_lead and flag.closed_by == cast.clinical_lead
    events = AuditEvent.objects.filter(object_type="flags.flag", object_id=str(flag.pk))
    # Raised (the flag), then two follow-up notes (acknowledged; resolved with a note):
    # the lead creates follow-up, never changes the patient's self-report.
    assert list(events.values_list("action", "category").order_by("pk")) == [
        ("create", "self_report"),
        ("create", "mental_health"),
        ("create", "mental_health"),
    ]
    assert "Has not signed in" not in client.get(URL).content.decode()


def test_it_refuses_a_double_acknowledgment_with_a_clear_message(cast, client_as):
    _silent_and_deteriorating(cast)
    flag = Flag.objects.get(reason="no_login")
    act = reverse("flags:act", args=[flag.pk])
    client_as(cast.clinical_lead).post(act, {"step": "acknowledge"})
    second = client_as(cast.assigned_clinician).post(act, {"step": "acknowledge"}, follow=True)
    assert "Someone has already acknowledged this flag." in second.content.decode()
    flag.refresh_from_db()
    assert flag.acknowledged_by == cast.clinical_lead


def test_it_refuses_no_action_without_a_reason(cast, client_as):
    _silent_and_deteriorating(cast)
    flag = Flag.objects.get(reason="no_login")
    response = client_as(cast.clinical_lead).post(
        reverse("flags:act", args=[flag.pk]),
        {"step": "resolve", "action": "no_action"},
        follow=True,
    )
    assert "Say why no action was needed." in response.content.decode()
    flag.refresh_from_db()
    assert flag.status == "open"


def test_it_checks_access(cast, client_as):
    _silent_and_deteriorating(cast)
    flag = Flag.objects.get(reason="no_login")
    act = reverse("flags:act", args=[flag.pk])
    for persona in ("front_desk", "program_admin", "unassigned_clinician", "other_org_clinician"):
        response = client_as(getattr(cast, persona)).post(act, {"step": "acknowledge"})
        assert response.status_code == 404, persona
    assert client_as(cast.front_desk).get(URL).status_code == 404
    other = client_as(cast.other_org_clinician).get(URL).content.decode()
    assert "Garcia" not in other
    flag.refresh_from_db()
    assert flag.acknowledged_at is None


def test_it_shows_a_craving_flag_only_to_those_who_may_see_part2(cast, client_as):
    now = timezone.now()
    User.objects.filter(kind="patient").update(last_login=now)
    for day in range(14, 0, -1):
        add_response(
            cast.patient.patient,
            "daily",
            now - dt.timedelta(days=day),
            items={"craving": 2 if day > 7 else 6},
        )
    flags_sweep()
    assert Flag.objects.filter(reason="craving_rise").count() == 1
    assert "Rising craving" in client_as(cast.assigned_clinician).get(URL).content.decode()
    assert "Rising craving" not in client_as(cast.clinical_lead).get(URL).content.decode()
    review = reverse("staff:review", args=[cast.patient.patient.pk])
    assert "Daily craving" not in client_as(cast.clinical_lead).get(review).content.decode()
    assert "Daily craving" in client_as(cast.assigned_clinician).get(review).content.decode()
