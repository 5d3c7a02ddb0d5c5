from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tether.accounts.models import User
from tether.notifications.models import Notification
from tether.patients.models import Patient
from tether.privacy.models import BreakGlassGrant
from tether.privacy.services import BreakGlassReason, break_glass_start
from tether.testing.cast import Cast

URL = reverse("notifications:list")
EXPLANATION = "Found unresponsive in group room; needed medication list now."


def use_break_glass(
    cast: Cast, user: User | None = None, patient: Patient | None = None
) -> BreakGlassGrant:
    return break_glass_start(
        request=None,
        user=user or cast.unassigned_clinician,
        patient=patient or cast.patient.patient,
        reason=BreakGlassReason.MEDICAL_EMERGENCY,
        explanation=EXPLANATION,
    )


def test_it_shows_a_break_glass_alert_with_who_when_and_why(cast, client_as):
    grant = use_break_glass(cast)
    response = client_as(cast.privacy_officer).get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Emergency access was used" in body
    assert "Uri Staff (Clinician) used emergency access to the record of patient no." in body
    assert f"no. {grant.patient_id} on" in body
    assert "Medical emergency" in body
    assert EXPLANATION in body
    report = f"{reverse('privacy:audit_report')}?patient={grant.patient_id}&actor={grant.user_id}"
    assert report.replace("&", "&amp;") in body
    assert "New" in body
    assert "Garcia" not in body  # the alert names the patient by number only


def test_it_lists_only_the_readers_own_notifications(cast, client_as):
    use_break_glass(cast, user=cast.clinical_lead)  # the lead is not alerted about themself
    body = client_as(cast.clinical_lead).get(URL).content.decode()
    assert "No notifications." in body
    body = client_as(cast.privacy_officer).get(URL).content.decode()
    assert "Lee Staff (Clinical lead)" in body


def test_it_marks_everything_read(cast, client_as):
    use_break_glass(cast)
    client = client_as(cast.clinical_lead)
    assert "1 new notification." in client.get(URL).content.decode()
    response = client.post(reverse("notifications:mark_read"))
    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=cast.clinical_lead, read_at=None).exists()
    assert Notification.objects.filter(recipient=cast.privacy_officer, read_at=None).exists()
    body = client.get(URL).content.decode()
    assert "new notification" not in body and "Mark all as read" not in body


@pytest.mark.parametrize("persona", ["patient", "parent"])
def test_it_checks_access(cast, client_as, persona):
    assert client_as(getattr(cast, persona)).get(URL).status_code == 404
    assert (
        client_as(getattr(cast, persona)).post(reverse("notifications:mark_read")).status_code
        == 404
    )


def test_it_sends_anonymous_people_to_sign_in(cast, client):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_it_is_never_cached(cast, client_as):
    assert "no-store" in client_as(cast.clinical_lead).get(URL)["Cache-Control"]


def test_it_costs_the_same_queries_however_many_alerts(cast, client_as):
    client = client_as(cast.privacy_officer)
    use_break_glass(cast)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for user in (cast.on_call, cast.clinical_lead):
        use_break_glass(cast, user=user, patient=cast.other_patient.patient)
    with CaptureQueriesContext(connection) as many:
        body = client.get(URL).content.decode()
    assert body.count("used emergency access to the record") == 3
    assert len(many.captured_queries) == len(few.captured_queries)


def test_its_review_link_opens_the_audit_report_for_that_access(cast, client_as):
    grant = use_break_glass(cast)
    client = client_as(cast.privacy_officer)
    report = f"{reverse('privacy:audit_report')}?patient={grant.patient_id}&actor={grant.user_id}"
    response = client.get(report)
    assert response.status_code == 200
    body = response.content.decode()
    assert "emergency access (break-glass)" in body
    assert f"privacy.breakglassgrant {grant.pk}" in body
