"""The utilization-review packet at a desk (issue 17): from the patient's page the
patient's clinician opens the packet page, sees which consents name the payer, is told a
period that ends before it starts cannot be used, then releases the packet and downloads
the PDF, which opens with the Part 2 notice. axe checks every page on the way."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.utils import timezone
from pypdf import PdfReader

from tether.consent.models import Disclosure, Recipient
from tether.consent.notice import PART2_NOTICE
from tether.consent.services import consent_sign
from tether.flags.testing import add_response
from tether.privacy.models import Purpose
from tether.privacy.policy import Category
from tether.testing.browser import sign_in_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in_staff(browser: Any, user: Any) -> None:
    sign_in_staff(browser, user)


def test_the_clinician_releases_a_packet_to_a_consenting_payer_and_downloads_it(desktop, cast):
    cast.iop.treats_substance_use = True
    cast.iop.save(update_fields=["treats_substance_use"])
    maria = cast.patient.patient
    payer = Recipient.objects.create(
        organization=cast.organization,
        name="Utilization review",
        recipient_organization="Lakeside Health Plan",
        kind=Recipient.Kind.HEALTH_PLAN,
        payer_identifier="LHP-60054",
    )
    consent_sign(
        patient=maria,
        signed_by=cast.patient,
        recipient=payer,
        category=Category.PART2,
        description="Level of care, attendance, scores and a summary for utilization review",
        purpose=Purpose.PAYMENT,
        discloser="Riverbend",
        expires_on=timezone.localdate() + dt.timedelta(days=90),
        signature_name="Maria Garcia",
    )
    now = timezone.now()
    add_response(maria, "phq9", now - dt.timedelta(days=14), total=18)
    add_response(maria, "phq9", now - dt.timedelta(days=2), total=11)

    _sign_in_staff(desktop, cast.assigned_clinician)
    page = desktop.page
    desktop.goto(f"/staff/patients/{maria.pk}/")
    desktop.click(page.get_by_role("link", name="Utilization-review packet for a payer"))
    assert page.get_by_role("heading", name="Utilization-review packet for Maria Garcia").count()
    assert page.get_by_text("the whole packet is a Part 2 record").is_visible()

    today = timezone.localdate()
    page.get_by_label("Payer", exact=True).select_option(str(payer.pk))
    page.get_by_label("Period from").fill(today.isoformat())
    page.get_by_label("Period to").fill((today - dt.timedelta(days=7)).isoformat())
    page.get_by_label("Clinician's summary").fill("Still needs IOP: PHQ-9 down 7 points.")
    desktop.click(page.get_by_role("button", name="Check consent and release the packet"))
    assert page.get_by_text("The period ends before it starts.").is_visible()
    assert Disclosure.objects.count() == 0

    page.get_by_label("Period from").fill((today - dt.timedelta(days=28)).isoformat())
    page.get_by_label("Period to").fill(today.isoformat())
    desktop.click(page.get_by_role("button", name="Check consent and release the packet"))
    assert page.get_by_role("heading", name="What was sent").is_visible()
    assert page.get_by_text("Released to the payer").is_visible()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the packet as sent (PDF)").click()
    path = download_info.value.path()
    with open(path, "rb") as file:
        reader = PdfReader(io.BytesIO(file.read()))
    first = " ".join((reader.pages[0].extract_text() or "").split())
    assert " ".join(PART2_NOTICE.split()) in first
    assert "Maria Garcia" in first
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)
    assert "Reliable improvement (-7 from the baseline of 18)" in text
    assert "Still needs IOP: PHQ-9 down 7 points." in text
    assert Disclosure.objects.get().kind == "ur_packet"
