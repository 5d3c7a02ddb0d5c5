from __future__ import annotations

import datetime as dt
import re
from typing import Any
from unittest import mock

from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tether.crisis import services
from tether.crisis.models import UrgentContactRequest
from tether.privacy.models import AuditEvent
from tether.testing.queries import page_queries


def test_it_offers_the_urgent_button_to_a_signed_in_patient(cast, client_as):
    page = client_as(cast.patient).get(reverse("crisis:crisis")).content.decode()
    assert "Ask my care team to contact me urgently" in page
    assert reverse("crisis:urgent_request") in page
    assert "If you are in danger now, call 988 or 911" in page


def test_it_explains_signing_in_and_shows_the_numbers_when_signed_out(client, cast):
    page = client.get(reverse("crisis:crisis")).content.decode()
    assert "sign in to Tether first" in page
    assert reverse("crisis:urgent_request") not in page
    assert "tel:988" in page


def test_it_raises_a_request_and_shows_the_patient_it_was_received(cast, client_as):
    client = client_as(cast.patient)
    response = client.post(reverse("crisis:urgent_request"))
    urgent = UrgentContactRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("crisis:urgent_status", args=[urgent.pk])
    page = client.get(response["Location"]).content.decode()
    assert "We received your request" in page
    assert "If you are in danger now, call 988 or 911." in page
    # The crisis page now says it is already with the team (no second button).
    crisis_page = client.get(reverse("crisis:crisis")).content.decode()
    assert "already has your request" in crisis_page


def test_it_tells_the_patient_plainly_when_the_database_is_down(cast, client_as):
    client = client_as(cast.patient)
    with mock.patch.object(
        services, "urgent_contact_raise", side_effect=OperationalError("connection refused")
    ):
        response = client.post(reverse("crisis:urgent_request"))
    assert response.status_code == 503
    page = response.content.decode()
    assert "did not go through" in page
    assert "has NOT been told" in page
    assert 'href="tel:988"' in page
    assert 'href="tel:911"' in page
    assert UrgentContactRequest.objects.count() == 0


def test_it_checks_access_to_a_request(cast, client_as):
    urgent = services.urgent_contact_raise(patient=cast.patient.patient, source="patient_button")
    status_url = reverse("crisis:urgent_status", args=[urgent.pk])
    staff_url = reverse("crisis:staff_request", args=[urgent.pk])
    assert client_as(cast.patient).get(status_url).status_code == 200
    for persona in ("other_patient", "parent", "assigned_clinician"):
        assert client_as(getattr(cast, persona)).get(status_url).status_code == 404
    for persona in ("assigned_clinician", "on_call", "clinical_lead"):
        assert client_as(getattr(cast, persona)).get(staff_url).status_code == 200
    for persona in (
        "unassigned_clinician",
        "front_desk",
        "program_admin",
        "other_org_clinician",
        "patient",
    ):
        assert client_as(getattr(cast, persona)).get(staff_url).status_code == 404, persona
    denied = AuditEvent.objects.filter(outcome="denied", patient=cast.patient.patient)
    assert denied.exists()


def test_it_lets_on_call_acknowledge_and_close_from_the_page(cast, client_as):
    urgent = services.urgent_contact_raise(patient=cast.patient.patient, source="patient_button")
    client = client_as(cast.on_call)
    client.post(reverse("crisis:staff_request_acknowledge", args=[urgent.pk]))
    urgent.refresh_from_db()
    assert urgent.status == "acknowledged"
    bad = client.post(reverse("crisis:staff_request_close", args=[urgent.pk]), {})
    assert bad.status_code == 400
    assert "This field is required" in bad.content.decode()
    client.post(
        reverse("crisis:staff_request_close", args=[urgent.pk]),
        {
            "contact_method": "phone",
            "outcome": "safe_plan",
            "safety_plan_reviewed": "on",
            "next_step": "Call back tomorrow at 9.",
        },
    )
    urgent.refresh_from_db()
    assert urgent.status == "closed"
    assert urgent.safety_plan_reviewed
    page = client.get(reverse("crisis:staff_request", args=[urgent.pk])).content.decode()
    assert "Call back tomorrow at 9." in page
    patient_page = (
        client_as(cast.patient)
        .get(reverse("crisis:urgent_status", args=[urgent.pk]))
        .content.decode()
    )
    assert "it is closed" in patient_page
    assert "Call back tomorrow" not in patient_page  # the clinical note stays with staff


def test_it_keeps_the_request_list_to_a_constant_number_of_queries(
    cast, client_as, django_assert_max_num_queries
):
    from tether.testing.cast import make_patient

    client = client_as(cast.clinical_lead)
    url = reverse("crisis:staff_requests")
    services.urgent_contact_raise(patient=cast.patient.patient, source="patient_button")
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    assert len(page_queries(small.captured_queries)) <= 40
    for i in range(6):
        user = make_patient(
            cast.organization,
            cast.iop,
            f"extra{i}",
            first_name="E",
            last_name=f"X{i}",
            clinician=cast.assigned_clinician,
        )
        services.urgent_contact_raise(
            patient=user.patient,
            source="patient_button",
            now=dt.datetime(2026, 11, 25, 15, i, tzinfo=dt.UTC),
        )
    # The page's own queries stay the same; its audit rows are one per patient shown.
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert len(page_queries(large.captured_queries)) <= len(page_queries(small.captured_queries))
    assert len(re.findall(r'href="/crisis/requests/\d+/"', response.content.decode())) == 7


def test_it_shows_urgent_alerts_in_notifications(cast, client_as):
    services.urgent_contact_raise(patient=cast.patient.patient, source="patient_button")
    page = (
        client_as(cast.assigned_clinician if _office_now(cast) else cast.on_call)
        .get(reverse("notifications:list"))
        .content.decode()
    )
    assert "needs urgent contact" in page
    assert "Open the request" in page


def _office_now(cast: Any) -> bool:
    from django.utils import timezone

    return bool(cast.iop.is_office_hours(timezone.now()))


def test_it_tells_a_family_member_the_button_is_for_patients(cast, client_as):
    page = client_as(cast.parent).get(reverse("crisis:crisis")).content.decode()
    assert "Patients can ask their care team from their own Tether account" in page
    assert reverse("crisis:urgent_request") not in page
    assert client_as(cast.parent).post(reverse("crisis:urgent_request")).status_code == 404
