from __future__ import annotations

from django.urls import reverse

from tether.consent.models import Disclosure
from tether.consent.notice import PART2_NOTICE
from tether.consent.services import consent_revoke
from tether.privacy.models import AuditEvent
from tether.privacy.policy import Category


def _send(client, cast, pcp, *, part2: bool, kind: str = "progress_summary"):
    data = {"recipient": str(pcp.pk), "kind": kind, "content": "Attends every session."}
    if part2:
        data["part2"] = "on"
    url = reverse("consent:staff_coordination", args=[cast.patient.patient.pk])
    return client.post(url, data, follow=True)


def test_it_refuses_an_update_without_consent(cast, client_as, pcp):
    response = _send(client_as(cast.assigned_clinician), cast, pcp, part2=False)
    assert "Not sent" in response.content.decode()
    assert not Disclosure.objects.exists()
    assert AuditEvent.objects.filter(
        outcome=AuditEvent.Outcome.DENIED, action="export", category="mental_health"
    ).exists()


def test_it_refuses_part2_content_under_a_mental_health_consent(cast, client_as, pcp, sign):
    sign(pcp, Category.MENTAL_HEALTH)
    client = client_as(cast.assigned_clinician)
    refused = _send(client, cast, pcp, part2=True)
    assert "Not sent" in refused.content.decode()
    assert not Disclosure.objects.exists()
    sent = _send(client, cast, pcp, part2=False)
    disclosure = Disclosure.objects.get()
    assert disclosure.category == "mental_health"
    assert "What was sent" in sent.content.decode()
    assert "Attends every session." in sent.content.decode()


def test_part2_updates_carry_the_section_2_32_notice(cast, client_as, pcp, sign):
    sign(pcp, Category.PART2)
    response = _send(client_as(cast.assigned_clinician), cast, pcp, part2=True)
    disclosure = Disclosure.objects.get()
    assert disclosure.notice == PART2_NOTICE
    text = response.content.decode()
    assert "42 CFR part 2 prohibits unauthorized use or disclosure" in text
    assert "42CFRPart2" in text


def test_a_revoked_consent_refuses_the_next_update(cast, client_as, pcp, sign):
    consent = sign(pcp, Category.MENTAL_HEALTH)
    client = client_as(cast.assigned_clinician)
    _send(client, cast, pcp, part2=False)
    consent_revoke(consent=consent, revoked_by=cast.patient)
    response = _send(client, cast, pcp, part2=False)
    assert "Not sent" in response.content.decode()
    assert Disclosure.objects.count() == 1


def test_it_checks_access(cast, client_as, pcp, sign):
    sign(pcp, Category.MENTAL_HEALTH)
    _send(client_as(cast.assigned_clinician), cast, pcp, part2=False)
    disclosure = Disclosure.objects.get()
    url = reverse("consent:staff_disclosure", args=[cast.patient.patient.pk, disclosure.pk])
    assert client_as(cast.assigned_clinician).get(url).status_code == 200
    for persona in ("unassigned_clinician", "front_desk", "patient", "parent"):
        assert client_as(getattr(cast, persona)).get(url).status_code == 404
    other = reverse("consent:staff_disclosure", args=[cast.other_patient.patient.pk, disclosure.pk])
    assert client_as(cast.assigned_clinician).get(other).status_code == 404


def test_front_desk_cannot_send(cast, client_as, pcp, sign):
    sign(pcp, Category.GENERAL)
    response = _send(client_as(cast.front_desk), cast, pcp, part2=False, kind="attendance_summary")
    assert response.status_code == 404
    assert not Disclosure.objects.exists()


def test_a_patient_signs_on_a_staff_device_at_intake(cast, client_as, pcp):
    import datetime as dt

    from django.utils import timezone

    from tether.consent.models import ConsentDirective

    url = reverse("consent:staff_consent_new", args=[cast.patient.patient.pk])
    client = client_as(cast.assigned_clinician)
    assert "entered and witnessed it" in client.get(url).content.decode()
    client.post(
        url,
        {
            "recipient": str(pcp.pk),
            "category": "general",
            "description": "Attendance",
            "purpose": "TREAT",
            "expires_on": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
            "signature_name": "Maria Garcia",
            "agree": "on",
            "patient_confirmation": "in_person",
            "identity_document": "state_id",
        },
    )
    consent = ConsentDirective.objects.get()
    assert consent.signed_via == ConsentDirective.SignedVia.STAFF_DEVICE
    assert consent.witnessed_by == cast.assigned_clinician
    assert client_as(cast.front_desk).get(url).status_code == 404
    assert client_as(cast.program_admin).get(url).status_code == 404
