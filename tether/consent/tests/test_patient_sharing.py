from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from tether.consent.models import ConsentDirective, Recipient
from tether.privacy.models import AuditEvent


def _form(pcp: Recipient, **overrides: str) -> dict[str, str]:
    data = {
        "recipient": str(pcp.pk),
        "category": "mental_health",
        "description": "My attendance and a progress summary",
        "purpose": "TREAT",
        "expires_on": (timezone.localdate() + dt.timedelta(days=60)).isoformat(),
        "signature_name": "Pat Patient",
        "agree": "on",
    }
    data.update(overrides)
    return data


def test_it_lets_the_patient_sign_a_consent_with_every_element(cast, client_as, pcp):
    client = client_as(cast.patient)
    page = client.get(reverse("consent:patient_new"))
    assert "take back (revoke)" in page.content.decode()
    response = client.post(reverse("consent:patient_new"), _form(pcp), follow=True)
    consent = ConsentDirective.objects.get()
    assert consent.patient == cast.patient.patient
    assert consent.recipient == pcp
    assert consent.category == "mental_health"
    assert consent.signature_name == "Pat Patient"
    assert consent.discloser and consent.redisclosure_statement and consent.refusal_statement
    assert consent.revoke_statement and consent.signed_at and consent.expires_on
    text = response.content.decode()
    assert "Dr. Rivera" in text and "This consent is in force." in text


def test_it_refuses_a_consent_with_a_missing_element(cast, client_as, pcp):
    client = client_as(cast.patient)
    for missing in ("signature_name", "agree", "description", "expires_on"):
        data = _form(pcp)
        del data[missing]
        response = client.post(reverse("consent:patient_new"), data)
        assert response.status_code == 200
        assert "errorlist" in response.content.decode()
    assert not ConsentDirective.objects.exists()


def test_it_refuses_a_forged_recipient(cast, client_as, pcp):
    stranger = Recipient.objects.create(
        organization=cast.other_organization, name="Forged", kind=Recipient.Kind.OTHER
    )
    response = client_as(cast.patient).post(
        reverse("consent:patient_new"), _form(pcp, recipient=str(stranger.pk))
    )
    assert response.status_code == 200
    assert not ConsentDirective.objects.exists()


def test_it_revokes_at_once(cast, client_as, pcp, sign):
    consent = sign(pcp)
    client = client_as(cast.patient)
    response = client.post(reverse("consent:patient_revoke", args=[consent.pk]), follow=True)
    consent.refresh_from_db()
    assert consent.revoked_at is not None
    assert "Nothing more will be shared" in response.content.decode()


def test_it_checks_access(cast, client_as, pcp, sign):
    consent = sign(pcp)
    url = reverse("consent:patient_detail", args=[consent.pk])
    assert client_as(cast.patient).get(url).status_code == 200
    for persona in ("other_patient", "parent", "assigned_clinician"):
        assert client_as(getattr(cast, persona)).get(url).status_code == 404
    revoke = reverse("consent:patient_revoke", args=[consent.pk])
    assert client_as(cast.other_patient).post(revoke).status_code == 404
    consent.refresh_from_db()
    assert consent.revoked_at is None
    assert AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED).exists()


def test_it_lists_disclosures_for_the_accounting(cast, client_as, pcp, sign):
    from tether.consent.models import Disclosure
    from tether.consent.services import coordination_send
    from tether.privacy.policy import Category

    sign(pcp)
    coordination_send(
        patient=cast.patient.patient,
        recipient=pcp,
        kind=Disclosure.Kind.PROGRESS_SUMMARY,
        category=Category.MENTAL_HEALTH,
        content="Attending well.",
        sent_by=cast.assigned_clinician,
    )
    text = client_as(cast.patient).get(reverse("consent:patient_list")).content.decode()
    assert "Progress summary" in text and "Dr. Rivera" in text
    other = client_as(cast.other_patient).get(reverse("consent:patient_list")).content.decode()
    assert "Dr. Rivera" not in other


def test_only_the_ticked_box_counts_as_agreement(cast, client_as, pcp):
    client = client_as(cast.patient)
    for forged in ("-1", "1", "true", "yes", "0", "off"):
        response = client.post(reverse("consent:patient_new"), _form(pcp, agree=forged))
        assert "errorlist" in response.content.decode(), forged
        assert "Pat Patient" in response.content.decode()  # what was typed is kept
    assert not ConsentDirective.objects.exists()


def test_a_signature_name_with_control_characters_is_stored_clean(cast, client_as, pcp):
    client_as(cast.patient).post(
        reverse("consent:patient_new"), _form(pcp, signature_name="Pat\x00 Patient\x1b")
    )
    assert ConsentDirective.objects.get().signature_name == "Pat Patient"


def test_the_home_page_says_plainly_who_the_patient_shares_with(cast, client_as, pcp):
    client = client_as(cast.patient)
    home = client.get(reverse("portal:home")).content.decode()
    assert "You have not agreed to share your information with any person or place." in home
    assert "You let 0" not in home
    client.post(reverse("consent:patient_new"), _form(pcp))
    home = client.get(reverse("portal:home")).content.decode()
    assert "You let 1 person or place see some of your information." in home
