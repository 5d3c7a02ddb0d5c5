from __future__ import annotations

from django.urls import reverse

from tether.consent.models import Disclosure
from tether.consent.notice import PART2_NOTICE
from tether.consent.services import consent_revoke
from tether.patients.models import Episode
from tether.privacy.models import AuditEvent
from tether.privacy.policy import Category


def _part2_program(cast) -> None:
    cast.iop.treats_substance_use = True
    cast.iop.save(update_fields=["treats_substance_use"])


def _send(client, cast, pcp, *, part2: bool, kind: str = "progress_summary"):
    """``part2``: the patient's program treats substance use (the label is derived from
    the program, never from the form)."""
    if part2:
        _part2_program(cast)
    else:
        cast.iop.treats_substance_use = False
        cast.iop.save(update_fields=["treats_substance_use"])
    data = {"recipient": str(pcp.pk), "kind": kind, "content": "Attends every session."}
    url = reverse("consent:staff_coordination", args=[cast.patient.patient.pk])
    return client.post(url, data, follow=True)


def test_it_refuses_an_update_without_consent(cast, client_as, pcp):
    response = _send(client_as(cast.assigned_clinician), cast, pcp, part2=False)
    assert "Not sent" in response.content.decode()
    assert not Disclosure.objects.exists()
    assert AuditEvent.objects.filter(
        outcome=AuditEvent.Outcome.DENIED, action="disclose", category="mental_health"
    ).exists()


def test_it_refuses_part2_content_under_a_mental_health_consent(cast, client_as, pcp, sign):
    sign(pcp, Category.MENTAL_HEALTH)
    client = client_as(cast.assigned_clinician)
    refused = _send(client, cast, pcp, part2=True)
    assert "Not sent" in refused.content.decode()
    assert not Disclosure.objects.exists()
    Episode.objects.filter(patient=cast.patient.patient).update(program=cast.adolescent_iop)
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


# --- Issue 13 item 3: only the care team discloses, and the label is not the sender's ---


def test_on_call_cannot_send_an_update(cast, client_as, pcp, sign):
    """Before: on-call (view-only) created a Disclosure; the gate was asked for VIEW."""
    sign(pcp, Category.MENTAL_HEALTH)
    for persona in ("on_call", "clinical_lead"):
        response = _send(client_as(getattr(cast, persona)), cast, pcp, part2=False)
        assert response.status_code == 404, persona
    assert not Disclosure.objects.exists()
    denied = AuditEvent.objects.filter(
        actor=cast.on_call, outcome=AuditEvent.Outcome.DENIED, action="disclose"
    )
    assert denied.filter(patient=cast.patient.patient, category="mental_health").exists()


def test_on_call_cannot_export_the_measure_history(cast, client_as, pcp, sign):
    sign(pcp, Category.SELF_REPORT)
    url = reverse("consent:staff_measure_export", args=[cast.patient.patient.pk])
    response = client_as(cast.on_call).post(url, {"export-recipient": str(pcp.pk)})
    assert response.status_code == 404
    assert not Disclosure.objects.exists()
    assert AuditEvent.objects.filter(
        actor=cast.on_call, outcome=AuditEvent.Outcome.DENIED, action="disclose"
    ).exists()


def test_an_update_from_a_part2_program_is_part2_whatever_the_form_says(cast, client_as, pcp, sign):
    """Before: an unticked box sent Part 2 content as mental-health, readable by lead and
    on-call. Now the label comes from the patient's program."""
    _part2_program(cast)
    sign(pcp, Category.PART2)
    url = reverse("consent:staff_coordination", args=[cast.patient.patient.pk])
    client_as(cast.assigned_clinician).post(
        url,
        {"recipient": str(pcp.pk), "kind": "attendance_summary", "content": "Comes to group."},
    )
    disclosure = Disclosure.objects.get()
    assert disclosure.category == "part2"
    assert disclosure.notice == PART2_NOTICE
    page = reverse("consent:staff_disclosure", args=[cast.patient.patient.pk, disclosure.pk])
    for persona in ("clinical_lead", "on_call"):
        assert client_as(getattr(cast, persona)).get(page).status_code == 404, persona


def test_lead_sees_what_is_hidden_and_why_on_the_coordination_page(cast, client_as, pcp, sign):
    _part2_program(cast)
    sign(pcp, Category.PART2)
    _send(client_as(cast.assigned_clinician), cast, pcp, part2=True)
    url = reverse("consent:staff_coordination", args=[cast.patient.patient.pk])
    page = client_as(cast.clinical_lead).get(url).content.decode()
    assert "Dr. Rivera" not in page
    assert "1 consent is hidden from you" in page
    assert "1 update sent is hidden from you" in page
    assert "Nothing sent yet" not in page
    assert "care team may send records outside the program" in page
    assert "Check consent and send" not in page
    assert AuditEvent.objects.filter(
        actor=cast.clinical_lead, category="part2", outcome=AuditEvent.Outcome.DENIED
    ).exists()
    own = client_as(cast.assigned_clinician).get(url).content.decode()
    assert "Dr. Rivera" in own and "Check consent and send" in own
