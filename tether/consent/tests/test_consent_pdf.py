"""The signed consent as a real PDF: it parses, holds every §2.31 element and the
notice, and reaches the patient and their care team only."""

from __future__ import annotations

import io

from django.urls import reverse
from pypdf import PdfReader

from tether.consent.notice import PART2_NOTICE_SHORT
from tether.consent.services import consent_revoke
from tether.privacy.policy import Category


def _text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_the_pdf_holds_every_element_and_the_notice(cast, client_as, pcp, sign):
    consent = sign(pcp, Category.PART2)
    response = client_as(cast.patient).get(reverse("consent:patient_pdf", args=[consent.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert f'filename="consent-{consent.pk}.pdf"' in response["Content-Disposition"]
    text = _text(response.content)
    for label, value in (
        ("Patient", cast.patient.patient.display_name),  # 1. the patient
        ("Who may share it", "Tether Test Clinic"),  # 2. who may disclose
        ("What may be shared", "Attendance and a short progress summary"),  # 3.
        ("Who may receive it", "Dr. Rivera"),  # 4. the recipient
        ("Why", "reatment"),  # 5. the purpose
        ("Your right to take it back", "revoke"),  # 6.
        ("Ends", str(consent.expires_on.year)),  # 7. expiry
        ("Signed", "Pat Patient"),  # 8. signature and date
        ("Sharing it again", "may not be shared again"),  # 9. redisclosure
        ("If you do not sign", "You do not have to sign"),  # 9. refusal
    ):
        assert label in text, label
        assert value in text, value
    assert "This record which has been disclosed to you is protected by Federal" in text
    assert PART2_NOTICE_SHORT in text


def test_a_revoked_consent_says_so(cast, client_as, pcp, sign):
    consent = sign(pcp, Category.MENTAL_HEALTH)
    consent_revoke(consent=consent, revoked_by=cast.patient)
    response = client_as(cast.patient).get(reverse("consent:patient_pdf", args=[consent.pk]))
    text = _text(response.content)
    assert "taken back" in text
    assert "Taken back" in text


def test_the_detail_page_offers_the_pdf(cast, client_as, pcp, sign):
    consent = sign(pcp, Category.MENTAL_HEALTH)
    page = client_as(cast.patient).get(reverse("consent:patient_detail", args=[consent.pk]))
    assert reverse("consent:patient_pdf", args=[consent.pk]) in page.content.decode()


def test_it_checks_access(cast, client_as, pcp, sign):
    consent = sign(pcp, Category.MENTAL_HEALTH)
    mine = reverse("consent:patient_pdf", args=[consent.pk])
    for persona in ("other_patient", "parent", "assigned_clinician"):
        assert client_as(getattr(cast, persona)).get(mine).status_code == 404
    staff = reverse("consent:staff_consent_pdf", args=[cast.patient.patient.pk, consent.pk])
    response = client_as(cast.assigned_clinician).get(staff)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    for persona in (
        "unassigned_clinician",
        "clinical_lead",
        "on_call",
        "front_desk",
        "program_admin",
        "privacy_officer",
        "other_org_clinician",
        "patient",
        "parent",
    ):
        assert client_as(getattr(cast, persona)).get(staff).status_code == 404, persona
    # Another patient's id with this consent: no.
    wrong = reverse("consent:staff_consent_pdf", args=[cast.other_patient.patient.pk, consent.pk])
    assert client_as(cast.unassigned_clinician).get(wrong).status_code == 404
