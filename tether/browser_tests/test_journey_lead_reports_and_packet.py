"""Issue 17's journey, in one go, by the program's clinical lead (Lee) in Chromium.

Lee opens the reports from the navigation, narrows them to one clinician (Dana) and
downloads the admissions table by clinician: the file holds Dana's figures, with a small
count suppressed. Then Lee prepares the utilization-review packet of Rosa, a patient of
the Part 2 program (left out of Lee's figures) who has signed a consent naming her
health plan for her substance-use records. The packet is released by the patient's care
team only (docs/PRIVACY.md: leads read, the care team discloses), so the patient page
offers Lee no packet link and says how to get one; Lee joins Rosa's care team as case
manager (the care-team page, audited), releases the packet and downloads the PDF, which
opens with the §2.32 notice. axe-core checks every page.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.utils import timezone
from pypdf import PdfReader

from tether.checkins.sync import sync_instruments
from tether.consent.models import Disclosure, Recipient
from tether.consent.notice import PART2_NOTICE
from tether.consent.services import consent_sign
from tether.flags.testing import add_response
from tether.organizations.models import Program
from tether.patients.models import CareTeamMember
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Category
from tether.reports.testing import admit, at, session
from tether.scheduling.models import Attendance
from tether.testing.browser import sign_in_staff
from tether.testing.cast import make_patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in_staff(browser: Any, user: Any) -> None:
    sign_in_staff(browser, user)


def _dana_caseload(cast: Any) -> None:
    """12 more episodes for Dana in the adult IOP, admitted 30 days ago, 3 of them ended
    unplanned, each with a session attended (with the cast's Maria and Jordan: 14)."""
    dana = cast.assigned_clinician.staff_member
    today = timezone.localdate()
    for i in range(12):
        episode = admit(
            cast.iop,
            dana,
            today - dt.timedelta(days=30),
            discharged=today - dt.timedelta(days=5) if i < 3 else None,
            reason="stopped_attending" if i < 3 else "",
        )
        session(episode, dana, at(today - dt.timedelta(days=10)), status=Attendance.Status.ATTENDED)


def _rosa_consents_to_her_plan(cast: Any) -> tuple[Any, Recipient]:
    """Rosa, in the Part 2 program (Dana her therapist), has signed a Part 2 consent
    naming Lakeside Health Plan for utilization review; two PHQ-9s a reliable change apart."""
    recovery = Program.objects.create(
        organization=cast.organization,
        name="Recovery IOP",
        kind=Program.Kind.IOP,
        crisis_line="555-0120",
        treats_substance_use=True,
    )
    for person in (cast.clinical_lead, cast.assigned_clinician):
        person.staff_member.programs.add(recovery)
    rosa = make_patient(
        cast.organization,
        recovery,
        "rosa.d",
        first_name="Rosa",
        last_name="Diaz",
        clinician=cast.assigned_clinician,
    )
    payer = Recipient.objects.create(
        organization=cast.organization,
        name="Utilization review",
        recipient_organization="Lakeside Health Plan",
        kind=Recipient.Kind.HEALTH_PLAN,
        payer_identifier="LHP-60054",
    )
    consent_sign(
        patient=rosa.patient,
        signed_by=rosa,
        recipient=payer,
        category=Category.PART2,
        description="Level of care, attendance, scores and a summary for utilization review",
        purpose=Purpose.PAYMENT,
        discloser="Riverbend",
        expires_on=timezone.localdate() + dt.timedelta(days=90),
        signature_name="Rosa Diaz",
    )
    now = timezone.now()
    add_response(rosa.patient, "phq9", now - dt.timedelta(days=14), total=18)
    add_response(rosa.patient, "phq9", now - dt.timedelta(days=2), total=11)
    return rosa.patient, payer


def test_the_lead_reads_one_clinicians_figures_then_releases_a_packet(desktop, cast):
    sync_instruments()  # outcome thresholds come from the instrument definitions
    _dana_caseload(cast)
    rosa, payer = _rosa_consents_to_her_plan(cast)
    lead = cast.clinical_lead
    _sign_in_staff(desktop, lead)
    page = desktop.page

    # --- The dashboard, narrowed to Dana; one table downloaded as CSV -----------------
    desktop.click(page.get_by_role("link", name="Reports", exact=True))
    assert page.get_by_role("heading", name="Program reports").is_visible()
    # The Part 2 program is left out of a lead's figures, and the page says so.
    assert page.locator("#part2-note").get_by_text("Recovery IOP").is_visible()
    page.get_by_label("Clinician", exact=True).select_option(label="Dana Staff")
    desktop.click(page.get_by_role("button", name="Show figures"))
    dana_id = str(cast.assigned_clinician.staff_member.pk)
    assert f"clinician={dana_id}" in page.url
    assert page.get_by_label("Clinician", exact=True).input_value() == dana_id

    table = page.locator("#table-dropout-by-clinician")
    with page.expect_download() as download_info:
        table.get_by_role("link", name="Download").click()
    download = download_info.value
    assert download.suggested_filename.startswith("tether-dropout-by-clinician-")
    lines = download.path().read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# Admissions, and discharges by kind of ending by clinician")
    rows = list(csv.reader(io.StringIO("\n".join(lines[1:]))))
    header, body = rows[0], rows[1:]
    assert header == [
        "Clinician",
        "Admitted",
        "Discharged",
        "Planned endings",
        "Unplanned endings (dropout)",
        "No reason recorded",
        "Unplanned, of admissions",
    ]
    # Dana's row and the total only: no other clinician's, nothing from the Part 2 program.
    assert [r[0] for r in body] == ["Dana Staff", "All"]
    dana = dict(zip(header, body[0], strict=True))
    assert dana["Admitted"] == "14"
    # 3 unplanned endings, 0 planned, 3 discharged: counts from 1 to 10 are suppressed,
    # and the rate built on one of them too.
    assert dana["Discharged"] == dana["Unplanned endings (dropout)"] == "*"
    assert dana["Unplanned, of admissions"] == "*"
    assert dana["Planned endings"] == dana["No reason recorded"] == "0"
    assert dict(zip(header, body[1], strict=True))["Admitted"] == "14"

    # --- Rosa's packet: not offered to a lead off her care team -----------------------
    desktop.goto(f"/staff/patients/{rosa.pk}/")
    assert page.get_by_role("link", name="Utilization-review packet for a payer").count() == 0
    assert page.get_by_text("joins the care team first").is_visible()
    desktop.click(page.get_by_role("link", name="Care team", exact=True))
    page.get_by_label("Clinician", exact=True).select_option(label="Lee Staff")
    page.get_by_label("Role on the team").select_option(label="Case manager")
    desktop.click(page.get_by_role("button", name="Add to the care team"))
    assert page.get_by_text("Added to the care team.").is_visible()
    assert CareTeamMember.objects.filter(
        episode__patient=rosa,
        staff_member=lead.staff_member,
        role=CareTeamMember.Role.CASE_MANAGER,
        ended_on__isnull=True,
    ).exists()

    desktop.goto(f"/staff/patients/{rosa.pk}/")
    desktop.click(page.get_by_role("link", name="Utilization-review packet for a payer"))
    assert page.get_by_role("heading", name="Utilization-review packet for Rosa Diaz").count()
    assert page.get_by_text("the whole packet is a Part 2 record").is_visible()
    today = timezone.localdate()
    page.get_by_label("Payer", exact=True).select_option(str(payer.pk))
    page.get_by_label("Period from").fill((today - dt.timedelta(days=21)).isoformat())
    page.get_by_label("Period to").fill(today.isoformat())
    page.get_by_label("Clinician's summary").fill("IOP still needed: PHQ-9 down 7 points.")
    desktop.click(page.get_by_role("button", name="Check consent and release the packet"))
    assert page.get_by_role("heading", name="What was sent").is_visible()
    assert page.get_by_text("Released to the payer").is_visible()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the packet as sent (PDF)").click()
    with open(download_info.value.path(), "rb") as file:
        reader = PdfReader(io.BytesIO(file.read()))
    first = " ".join((reader.pages[0].extract_text() or "").split())
    assert " ".join(PART2_NOTICE.split()) in first
    assert "Rosa Diaz" in first
    assert "Lakeside Health Plan" in first
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)
    assert "Reliable improvement (-7 from the baseline of 18)" in text
    assert "IOP still needed: PHQ-9 down 7 points." in text

    disclosure = Disclosure.objects.get()
    assert (disclosure.patient_id, disclosure.kind) == (rosa.pk, "ur_packet")
    assert disclosure.category == Category.PART2
    assert disclosure.disclosed_by_id == lead.pk
    assert AuditEvent.objects.filter(
        actor=lead, patient=rosa, action="disclose", outcome=AuditEvent.Outcome.ALLOWED
    ).exists()
    desktop.assert_every_page_checked()
