"""The utilization-review packet (issue 17): a PDF for a payer's reviewer, released only
under the patient's consents naming that payer for every category it holds, the notice
on its first page, listed in the patient's accounting of disclosures; refused (and the
refusal audited, nothing released) without consent or for a period that ends before it
starts. The PDF is parsed back with pypdf."""

from __future__ import annotations

import base64
import datetime as dt
import io
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from tether.consent.models import Disclosure, Recipient
from tether.consent.notice import PART2_NOTICE
from tether.consent.services import consent_revoke, notice_for
from tether.flags.testing import add_response
from tether.patients.models import CareTeamMember, Episode, LevelOfCare, LevelOfCareChange
from tether.privacy.models import AuditEvent
from tether.privacy.policy import Category
from tether.scheduling.models import Appointment, Attendance

NON_PART2 = (Category.GENERAL, Category.SELF_REPORT, Category.MENTAL_HEALTH)
SUMMARY = "Stepped down to IOP after two weeks; mood improving, still needs structure."


@pytest.fixture
def payer(cast) -> Recipient:
    return Recipient.objects.create(
        organization=cast.organization,
        name="Utilization review",
        recipient_organization="Lakeside Health Plan",
        kind=Recipient.Kind.HEALTH_PLAN,
        payer_identifier="LHP-60054",
        plan_identifier="GRP-7731",
    )


def _part2(cast: Any) -> None:
    cast.iop.treats_substance_use = True
    cast.iop.save(update_fields=["treats_substance_use"])


def _history(cast: Any) -> None:
    """Admitted to PHP 21 days ago, stepped down to IOP, scores falling, one group
    attended and one missed."""
    maria = cast.patient.patient
    episode = Episode.objects.get(patient=maria)
    LevelOfCareChange.objects.create(
        organization=cast.organization,
        episode=episode,
        from_level=LevelOfCare.PHP,
        to_level=LevelOfCare.IOP,
        changed_on=episode.admitted_on + dt.timedelta(days=10),
        reason=LevelOfCareChange.Reason.IMPROVED,
    )
    now = timezone.now()
    add_response(maria, "phq9", now - dt.timedelta(days=20), total=17)
    add_response(maria, "gad7", now - dt.timedelta(days=20), total=12)
    add_response(maria, "phq9", now - dt.timedelta(days=3), total=9)
    add_response(maria, "gad7", now - dt.timedelta(days=3), total=11)
    for days, status in ((5, Attendance.Status.ATTENDED), (4, Attendance.Status.ABSENT)):
        group = Appointment.objects.create(
            organization=cast.organization,
            program=cast.iop,
            kind=Appointment.Kind.GROUP,
            title="Skills group",
            starts_at=now - dt.timedelta(days=days),
            ends_at=now - dt.timedelta(days=days, hours=-1),
        )
        Attendance.objects.create(
            organization=cast.organization,
            appointment=group,
            patient=maria,
            episode=episode,
            status=status,
        )


def _form(payer: Recipient, **changes: str) -> dict[str, str]:
    today = timezone.localdate()
    return {
        "recipient": str(payer.pk),
        "period_start": (today - dt.timedelta(days=30)).isoformat(),
        "period_end": today.isoformat(),
        "summary": SUMMARY,
        **changes,
    }


def _url(cast: Any) -> str:
    return reverse("consent:staff_ur_packet", args=[cast.patient.patient.pk])


def _pdf_text(client: Any, cast: Any, disclosure: Disclosure) -> list[str]:
    response = client.get(
        reverse("consent:staff_ur_packet_pdf", args=[cast.patient.patient.pk, disclosure.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.content))
    return [" ".join((page.extract_text() or "").split()) for page in reader.pages]


def test_it_is_refused_without_a_consent_for_every_category(cast, client_as, payer, sign):
    _history(cast)
    sign(payer, Category.GENERAL)  # attendance only: no scores, no clinical summary
    page = client_as(cast.assigned_clinician).post(_url(cast), _form(payer)).content.decode()
    assert "Not released" in page
    assert "Nothing was shared" in page
    assert "My mental-health treatment records" in page
    assert not Disclosure.objects.exists()
    denied = set(
        AuditEvent.objects.filter(
            outcome=AuditEvent.Outcome.DENIED, action="disclose", patient=cast.patient.patient
        ).values_list("category", flat=True)
    )
    assert denied == {"self_report", "mental_health"}


def test_a_revoked_consent_refuses_the_packet(cast, client_as, payer, sign):
    consents = [sign(payer, category) for category in NON_PART2]
    consent_revoke(consent=consents[-1], revoked_by=cast.patient)
    page = client_as(cast.assigned_clinician).post(_url(cast), _form(payer)).content.decode()
    assert "Not released" in page
    assert not Disclosure.objects.exists()


def test_a_period_that_ends_before_it_starts_is_refused(cast, client_as, payer, sign):
    for category in NON_PART2:
        sign(payer, category)
    today = timezone.localdate()
    data = _form(
        payer,
        period_start=today.isoformat(),
        period_end=(today - dt.timedelta(days=7)).isoformat(),
    )
    page = client_as(cast.assigned_clinician).post(_url(cast), data).content.decode()
    assert "The period ends before it starts." in page
    assert not Disclosure.objects.exists()
    assert AuditEvent.objects.filter(
        outcome=AuditEvent.Outcome.DENIED, action="disclose", patient=cast.patient.patient
    ).exists()


def test_with_part2_consent_the_pdf_opens_with_the_notice_and_holds_the_record(
    cast, client_as, payer, sign
):
    _part2(cast)
    _history(cast)
    sign(payer, Category.PART2)
    client = client_as(cast.assigned_clinician)
    page = client.post(_url(cast), _form(payer), follow=True).content.decode()
    assert "Released to the payer" in page
    disclosure = Disclosure.objects.get()
    assert disclosure.kind == "ur_packet"
    assert disclosure.category == "part2"
    assert disclosure.notice == PART2_NOTICE
    assert disclosure.purpose == "TREAT"
    pages = _pdf_text(client, cast, disclosure)
    first = pages[0]
    assert " ".join(PART2_NOTICE.split()) in first
    assert "42 CFR part 2 prohibits unauthorized use or disclosure" in first
    assert "Maria Garcia" in first
    assert "LHP-60054" in first and "GRP-7731" in first
    text = " ".join(pages)
    # Level of care and dates.
    assert "Partial hospitalization to Intensive outpatient" in text
    # Attendance: two sessions held, one attended, one missed.
    assert "Sessions held: 2" in text and "Attended: 1" in text
    assert "Did not attend" in text
    # Scores with their reliable-change markers (PHQ-9 6, GAD-7 4: instrument files).
    assert "PHQ-9" in text and "GAD-7" in text
    assert "Reliable recovery (-8 from the baseline of 17)" in text
    assert "No reliable change (-1 from the baseline of 12)" in text
    assert SUMMARY in text
    # The packet as released is kept: the same bytes every time it is downloaded.
    assert base64.b64decode(disclosure.document).startswith(b"%PDF")


def test_with_consents_it_is_in_the_patients_accounting_of_disclosures(
    cast, client_as, payer, sign
):
    _history(cast)
    for category in NON_PART2:
        sign(payer, category)
    client = client_as(cast.assigned_clinician)
    client.post(_url(cast), _form(payer))
    disclosure = Disclosure.objects.get()
    assert disclosure.category == "mental_health"
    assert disclosure.notice == notice_for(Category.MENTAL_HEALTH)
    first = _pdf_text(client, cast, disclosure)[0]
    assert " ".join(notice_for(Category.MENTAL_HEALTH).split()) in first
    assert "This record which has been disclosed" not in first
    allowed = set(
        AuditEvent.objects.filter(
            outcome=AuditEvent.Outcome.ALLOWED, action="disclose", patient=cast.patient.patient
        ).values_list("category", flat=True)
    )
    assert allowed == {"general", "self_report", "mental_health"}
    accounting = client_as(cast.patient).get(reverse("consent:patient_list")).content.decode()
    assert "Utilization-review packet (PDF)" in accounting
    assert "Lakeside Health Plan" in accounting


@pytest.mark.parametrize(
    "persona",
    [
        "unassigned_clinician",
        "clinical_lead",
        "on_call",
        "front_desk",
        "patient",
        "other_org_clinician",
    ],
)
def test_only_the_care_team_generates_it(cast, client_as, payer, sign, persona):
    for category in NON_PART2:
        sign(payer, category)
    client = client_as(getattr(cast, persona))
    assert client.get(_url(cast)).status_code == 404
    assert client.post(_url(cast), _form(payer)).status_code == 404
    assert not Disclosure.objects.exists()


def test_the_page_shows_which_consents_are_missing(cast, client_as, payer, sign):
    sign(payer, Category.SELF_REPORT)
    page = client_as(cast.assigned_clinician).get(_url(cast)).content.decode()
    assert "Lakeside Health Plan" in page
    assert page.count("No: the packet cannot go") == 2


def test_someone_elses_packet_pdf_is_not_served(cast, client_as, payer, sign):
    for category in NON_PART2:
        sign(payer, category)
    client_as(cast.assigned_clinician).post(_url(cast), _form(payer))
    disclosure = Disclosure.objects.get()
    other = cast.other_patient.patient.pk
    url = reverse("consent:staff_ur_packet_pdf", args=[other, disclosure.pk])
    assert client_as(cast.unassigned_clinician).get(url).status_code == 404
    own = reverse("consent:staff_ur_packet_pdf", args=[cast.patient.patient.pk, disclosure.pk])
    assert client_as(cast.front_desk).get(own).status_code == 404


def test_a_payer_is_added_with_its_identifiers_and_named_in_the_consent_form(cast, client_as):
    client = client_as(cast.assigned_clinician)
    url = reverse("consent:staff_recipients")
    data = {"name": "UR desk", "recipient_organization": "Lakeside", "kind": "health_plan"}
    page = client.post(url, data).content.decode()
    assert "Give the payer&#x27;s ID" in page
    assert not Recipient.objects.exists()
    client.post(url, {**data, "payer_identifier": "LHP-1", "plan_identifier": "G-2"})
    payer = Recipient.objects.get()
    assert (payer.payer_identifier, payer.plan_identifier) == ("LHP-1", "G-2")
    form = client_as(cast.patient).get(reverse("consent:patient_new")).content.decode()
    assert "UR desk, Lakeside (payer ID LHP-1)" in form


def test_the_care_coordination_form_does_not_offer_the_packet(cast, client_as):
    url = reverse("consent:staff_coordination", args=[cast.patient.patient.pk])
    page = client_as(cast.assigned_clinician).get(url).content.decode()
    assert 'value="ur_packet"' not in page


# --- A clinical lead: program-wide reading, but the care team alone releases ---------


def _lead_joins_the_care_team(cast: Any, client: Any) -> None:
    """Through the care-team page, as the lead would: their own name, case manager."""
    response = client.post(
        reverse("program:care_team", args=[cast.patient.patient.pk]),
        {
            "action": "assign",
            "staff_member": str(cast.clinical_lead.staff_member.pk),
            "role": CareTeamMember.Role.CASE_MANAGER,
        },
    )
    assert response.status_code == 302


def test_the_patient_page_offers_the_packet_to_the_care_team_only(cast, client_as):
    patient_page = reverse("staff:patient_detail", args=[cast.patient.patient.pk])
    packet_link = _url(cast)
    mine = client_as(cast.assigned_clinician).get(patient_page).content.decode()
    assert packet_link in mine
    lead = client_as(cast.clinical_lead).get(patient_page).content.decode()
    assert packet_link not in lead
    assert "released by the patient's care team only" in lead
    assert "joins the care team first" in lead
    on_call = client_as(cast.on_call).get(patient_page).content.decode()
    assert packet_link not in on_call
    assert "joins the care team first" not in on_call


def test_a_lead_who_joins_the_care_team_releases_a_part2_packet(cast, client_as, payer, sign):
    _part2(cast)
    _history(cast)
    sign(payer, Category.PART2)
    client = client_as(cast.clinical_lead)
    assert client.get(_url(cast)).status_code == 404
    _lead_joins_the_care_team(cast, client)
    page = client.get(reverse("staff:patient_detail", args=[cast.patient.patient.pk]))
    assert _url(cast) in page.content.decode()
    assert client.get(_url(cast)).status_code == 200
    released = client.post(_url(cast), _form(payer), follow=True).content.decode()
    assert "Released to the payer" in released
    disclosure = Disclosure.objects.get()
    assert (disclosure.category, disclosure.disclosed_by_id) == ("part2", cast.clinical_lead.pk)
    first = _pdf_text(client, cast, disclosure)[0]
    assert " ".join(PART2_NOTICE.split()) in first


def test_a_lead_on_the_care_team_is_still_refused_without_consent(cast, client_as, payer, sign):
    _part2(cast)
    sign(payer, Category.MENTAL_HEALTH)  # not the Part 2 consent the packet needs
    client = client_as(cast.clinical_lead)
    _lead_joins_the_care_team(cast, client)
    page = client.post(_url(cast), _form(payer)).content.decode()
    assert "Not released" in page and "Nothing was shared" in page
    assert not Disclosure.objects.exists()
    assert AuditEvent.objects.filter(
        actor=cast.clinical_lead,
        outcome=AuditEvent.Outcome.DENIED,
        action="disclose",
        category="part2",
        patient=cast.patient.patient,
    ).exists()


def test_a_lead_taken_off_the_care_team_no_longer_releases_it(cast, client_as, payer, sign):
    for category in NON_PART2:
        sign(payer, category)
    client = client_as(cast.clinical_lead)
    _lead_joins_the_care_team(cast, client)
    assert client.get(_url(cast)).status_code == 200
    member = CareTeamMember.objects.get(staff_member=cast.clinical_lead.staff_member)
    client.post(
        reverse("program:care_team", args=[cast.patient.patient.pk]),
        {"action": "end", "member": str(member.pk)},
    )
    assert client.get(_url(cast)).status_code == 404
    assert client.post(_url(cast), _form(payer)).status_code == 404
    assert not Disclosure.objects.exists()


def test_a_lead_of_another_program_cannot_join_the_team_or_release_it(cast, client_as, payer, sign):
    for category in NON_PART2:
        sign(payer, category)
    cast.clinical_lead.staff_member.programs.set([cast.adolescent_iop])
    client = client_as(cast.clinical_lead)
    team = reverse("program:care_team", args=[cast.patient.patient.pk])
    data = {
        "action": "assign",
        "staff_member": str(cast.clinical_lead.staff_member.pk),
        "role": CareTeamMember.Role.CASE_MANAGER,
    }
    assert client.post(team, data).status_code == 404
    assert not CareTeamMember.objects.filter(staff_member=cast.clinical_lead.staff_member).exists()
    assert client.post(_url(cast), _form(payer)).status_code == 404
    assert not Disclosure.objects.exists()
