from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import formats, timezone

from tether.notifications.models import Notification
from tether.organizations.models import Program
from tether.patients.models import Patient
from tether.privacy.models import AuditEvent, BreakGlassGrant
from tether.privacy.services import (
    BreakGlassError,
    BreakGlassReason,
    break_glass_start,
    stated_reason,
)
from tether.testing.cast import make_patient

EXPLANATION = "Patient called the crisis line after hours; primary therapist unreachable."
VALID = {"reason": BreakGlassReason.CRISIS_CONTACT.value, "explanation": EXPLANATION}


def url(patient_id: int) -> str:
    return reverse("privacy:break_glass", args=[patient_id])


def detail(patient_id: int) -> str:
    return reverse("staff:patient_detail", args=[patient_id])


@pytest.fixture
def other_org_patient(cast) -> Patient:
    program = Program.objects.get(organization=cast.other_organization)
    user = make_patient(
        cast.other_organization, program, "zelda.q", first_name="Zelda", last_name="Quist"
    )
    return user.patient


def without_csrf_token(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def nonexistent_id() -> int:
    return (Patient.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000


@pytest.mark.parametrize("persona", ["unassigned_clinician", "clinical_lead", "on_call"])
def test_it_offers_emergency_access_to_clinicians_outside_the_care_team(cast, client_as, persona):
    response = client_as(getattr(cast, persona)).get(url(cast.patient.patient.pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert "care team.</strong>" in body and "You are not on this patient" in body
    assert "Open the record in an emergency" in body


@pytest.mark.parametrize(
    "persona",
    ["front_desk", "program_admin", "privacy_officer", "patient", "parent", "other_org_clinician"],
)
def test_it_checks_access(cast, client_as, persona):
    response = client_as(getattr(cast, persona)).get(url(cast.patient.patient.pk))
    assert response.status_code == 404
    response = client_as(getattr(cast, persona)).post(url(cast.patient.patient.pk), VALID)
    assert response.status_code == 404
    assert not BreakGlassGrant.objects.exists()


def test_it_sends_anonymous_people_to_sign_in(cast, client):
    response = client.get(url(cast.patient.patient.pk))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_it_looks_the_same_for_a_missing_id_and_another_organizations_patient(
    cast, client_as, other_org_patient
):
    client = client_as(cast.unassigned_clinician)
    missing_url, elsewhere_url = url(nonexistent_id()), url(other_org_patient.pk)
    missing = client.get(missing_url)
    elsewhere = client.get(elsewhere_url)
    assert missing.status_code == elsewhere.status_code == 404
    # The same page but for the address the person asked for (the language switch
    # brings them back to it).
    assert without_csrf_token(missing.content.decode()).replace(
        missing_url, "<asked>"
    ) == without_csrf_token(elsewhere.content.decode()).replace(elsewhere_url, "<asked>")
    assert "Quist" not in elsewhere.content.decode()
    denied = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED).order_by("pk")
    assert [(e.patient_id, e.organization_id, e.purpose) for e in denied] == [
        (None, cast.organization.pk, "ETREAT"),
        (None, cast.organization.pk, "ETREAT"),
    ]


def test_it_shows_nothing_about_the_patient_before_access_is_granted(cast, client_as):
    body = client_as(cast.unassigned_clinician).get(url(cast.patient.patient.pk)).content.decode()
    assert "Garcia" not in body and "Maria" not in body and "MRN-" not in body


def test_it_requires_a_reason_and_a_real_explanation(cast, client_as):
    client = client_as(cast.unassigned_clinician)
    response = client.post(url(cast.patient.patient.pk), {"explanation": "too short, sorry"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose the kind of emergency." in body
    assert "Please explain in at least 20 characters (you wrote 16)." in body
    assert "too short, sorry" in body  # nothing typed is lost
    assert not BreakGlassGrant.objects.exists()
    assert not Notification.objects.exists()


def test_it_grants_time_limited_access_and_opens_the_record(cast, client_as):
    client = client_as(cast.unassigned_clinician)
    patient = cast.patient.patient
    assert client.get(detail(patient.pk)).status_code == 404

    before = timezone.now()
    response = client.post(url(patient.pk), VALID)
    assert response.status_code == 302
    assert response["Location"] == detail(patient.pk)

    grant = BreakGlassGrant.objects.get()
    assert (grant.user, grant.patient, grant.organization) == (
        cast.unassigned_clinician,
        patient,
        cast.organization,
    )
    assert before <= grant.started_at <= timezone.now()
    assert grant.expires_at - grant.started_at == dt.timedelta(minutes=60)
    reason = stated_reason(grant)
    assert reason.category == BreakGlassReason.CRISIS_CONTACT
    assert reason.explanation == EXPLANATION

    page = client.get(detail(patient.pk))
    assert page.status_code == 200
    assert "Garcia" in page.content.decode()
    assert "Emergency access is open until" in page.content.decode()


def test_it_tells_the_end_time_on_the_programs_clock(cast, client_as):
    cast.iop.time_zone = "America/Los_Angeles"
    cast.iop.save(update_fields=["time_zone"])
    client = client_as(cast.unassigned_clinician)
    client.post(url(cast.patient.patient.pk), VALID)
    grant = BreakGlassGrant.objects.get()
    local = formats.time_format(
        grant.expires_at.astimezone(zoneinfo.ZoneInfo("America/Los_Angeles")), "TIME_FORMAT"
    )
    page = client.get(detail(cast.patient.patient.pk)).content.decode()
    assert f"Emergency access is open until {local}." in page
    again = client.get(url(cast.patient.patient.pk)).content.decode()
    assert f"emergency access to this record until {local}." in again


def test_it_uses_the_configured_duration(cast, client_as, settings):
    settings.TETHER_BREAK_GLASS_MINUTES = 15
    client_as(cast.on_call).post(url(cast.patient.patient.pk), VALID)
    grant = BreakGlassGrant.objects.get()
    assert grant.expires_at - grant.started_at == dt.timedelta(minutes=15)


def test_it_ends_access_when_the_grant_expires(cast, client_as):
    client = client_as(cast.unassigned_clinician)
    patient = cast.patient.patient
    client.post(url(patient.pk), VALID)
    BreakGlassGrant.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client.get(detail(patient.pk)).status_code == 404


def test_it_audits_the_grant_and_every_access_under_it_without_the_reason(cast, client_as):
    client = client_as(cast.unassigned_clinician)
    patient = cast.patient.patient
    client.post(url(patient.pk), VALID)
    client.get(detail(patient.pk))
    grant = BreakGlassGrant.objects.get()
    # The patient page also reads self-reports (check-ins), audited as their own events.
    created, viewed = AuditEvent.objects.filter(
        outcome=AuditEvent.Outcome.ALLOWED, category="general"
    ).order_by("pk")
    assert (created.action, created.purpose, created.acting_as) == (
        "create",
        "ETREAT",
        "break_glass",
    )
    assert (created.object_type, created.object_id) == ("privacy.breakglassgrant", str(grant.pk))
    assert (created.actor, created.patient) == (cast.unassigned_clinician, patient)
    assert (viewed.action, viewed.acting_as, viewed.purpose) == ("view", "break_glass", "ETREAT")
    for row in AuditEvent.objects.values():
        for value in row.values():
            assert "crisis line" not in str(value)
            assert "crisis_contact" not in str(value)


def test_it_alerts_the_clinical_lead_and_the_privacy_officer(
    cast, client_as, django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        client_as(cast.unassigned_clinician).post(url(cast.patient.patient.pk), VALID)
    grant = BreakGlassGrant.objects.get()
    notified = Notification.objects.filter(kind=Notification.Kind.BREAK_GLASS)
    assert {n.recipient for n in notified} == {cast.clinical_lead, cast.privacy_officer}
    assert all(
        n.break_glass_grant == grant and n.actor == cast.unassigned_clinician for n in notified
    )

    assert sorted(m.to[0] for m in mail.outbox) == [
        cast.clinical_lead.email,
        cast.privacy_officer.email,
    ]
    for message in mail.outbox:
        link = settings.SITE_URL + reverse("notifications:list")
        assert link in message.body
        text = f"{message.subject}\n{message.body}".replace(link, "")
        assert "Emergency access was used in Tether; review it in the audit report" in text
        for phi in ("Garcia", "Maria", "MRN-", "crisis line", "Uri", str(cast.patient.patient.pk)):
            assert phi not in text


def test_it_does_not_alert_the_lead_who_used_it_but_still_alerts_the_others(
    cast, client_as, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client_as(cast.clinical_lead).post(url(cast.other_patient.patient.pk), VALID)
    recipients = set(Notification.objects.values_list("recipient__username", flat=True))
    assert recipients == {cast.privacy_officer.username}
    assert [m.to for m in mail.outbox] == [[cast.privacy_officer.email]]


def test_it_sends_care_team_members_straight_to_the_record(cast, client_as):
    response = client_as(cast.assigned_clinician).get(url(cast.patient.patient.pk))
    assert response.status_code == 302
    assert response["Location"] == detail(cast.patient.patient.pk)
    assert not BreakGlassGrant.objects.exists()


def test_it_shows_an_open_grant_instead_of_asking_again(cast, client_as):
    client = client_as(cast.unassigned_clinician)
    client.post(url(cast.patient.patient.pk), VALID)
    response = client.get(url(cast.patient.patient.pk))
    assert response.status_code == 200
    assert "You already have emergency access to this record until" in response.content.decode()
    client.post(url(cast.patient.patient.pk), VALID)
    assert BreakGlassGrant.objects.count() == 1


def test_it_is_never_cached(cast, client_as):
    response = client_as(cast.unassigned_clinician).get(url(cast.patient.patient.pk))
    assert "no-store" in response["Cache-Control"]


def test_the_service_refuses_what_the_page_would_refuse(cast, other_org_patient):
    with pytest.raises(BreakGlassError):
        break_glass_start(
            request=None,
            user=cast.front_desk,
            patient=cast.patient.patient,
            reason=BreakGlassReason.OTHER,
            explanation=EXPLANATION,
        )
    with pytest.raises(BreakGlassError):
        break_glass_start(
            request=None,
            user=cast.unassigned_clinician,
            patient=other_org_patient,
            reason=BreakGlassReason.OTHER,
            explanation=EXPLANATION,
        )
    with pytest.raises(BreakGlassError):
        break_glass_start(
            request=None,
            user=cast.unassigned_clinician,
            patient=cast.patient.patient,
            reason=BreakGlassReason.OTHER,
            explanation="   short    ",
        )
    assert not BreakGlassGrant.objects.exists()
    assert not AuditEvent.objects.exists()


# --- Reaching it: the staff "not found" page -------------------------------------------


def test_it_is_offered_on_the_not_found_page_of_a_patient_the_clinician_cannot_see(cast, client_as):
    response = client_as(cast.unassigned_clinician).get(detail(cast.patient.patient.pk))
    assert response.status_code == 404
    body = response.content.decode()
    assert "Ask for emergency access" in body
    assert url(cast.patient.patient.pk) in body
    assert "Garcia" not in body


def test_the_not_found_offer_is_the_same_whatever_the_id(cast, client_as, other_org_patient):
    client = client_as(cast.unassigned_clinician)
    missing_id = nonexistent_id()
    missing = without_csrf_token(client.get(detail(missing_id)).content.decode())
    elsewhere = without_csrf_token(client.get(detail(other_org_patient.pk)).content.decode())
    assert missing.replace(f"/{missing_id}/", "/ID/") == elsewhere.replace(
        f"/{other_org_patient.pk}/", "/ID/"
    )


@pytest.mark.parametrize("persona", ["front_desk", "privacy_officer", "program_admin"])
def test_the_not_found_page_offers_nothing_to_non_clinical_staff(cast, client_as, persona):
    response = client_as(getattr(cast, persona)).get(detail(nonexistent_id()))
    assert response.status_code == 404
    assert "emergency access" not in response.content.decode().lower()
