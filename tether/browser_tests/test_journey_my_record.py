"""The patient's own record on a phone (ONC 170.315(e)(1)): Maria opens "My health record"
from the "More" menu, downloads it as a PDF and sends a copy to her doctor's Direct
address after checking it. axe-core runs on every page (360 px)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core import mail
from pypdf import PdfReader

from tether.fhir.tests.helpers import add_measure
from tether.portal.models import RecordTransmission
from tether.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(browser: Any, user: Any) -> None:
    page = browser.page
    browser.goto("/accounts/sign-in/")
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    browser.click(page.get_by_role("button", name="Sign in"))


def test_a_patient_opens_downloads_and_sends_her_record(phone, cast):
    response = add_measure(cast.patient.patient, "phq9", [2, 2, 1, 1, 1, 1, 1, 0, 1])
    page = phone.page
    _sign_in(phone, cast.patient)

    nav = page.get_by_role("navigation", name="Main")
    nav.locator("summary", has_text="More").click()
    phone.click(nav.get_by_role("link", name="My health record"))
    assert page.get_by_role("heading", name="My health record", level=1).is_visible()
    assert page.get_by_text(f"Score {response.total} (Moderate").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.get_by_text("Need help now?").is_visible()

    with page.expect_download() as download:
        page.get_by_role("link", name="Download as PDF").click()
    path = download.value.path()
    assert download.value.suggested_filename == "health-record.pdf"
    with open(path, "rb") as handle:
        text = " ".join(
            " ".join(p.extract_text() for p in PdfReader(io.BytesIO(handle.read())).pages).split()
        )
    assert f"PHQ-9: score {response.total}" in text

    phone.click(page.get_by_role("link", name="Send a copy"))
    page.get_by_label("Direct address").check()
    page.get_by_label("Address", exact=True).fill("intake@direct.hillside.example")
    page.get_by_label("PDF, to read and print").check()
    phone.click(page.get_by_role("button", name="Check before sending"))
    assert page.get_by_role("heading", name="Check before sending").is_visible()
    assert page.get_by_text("intake@direct.hillside.example").is_visible()
    assert mail.outbox == []

    phone.click(page.get_by_role("button", name="Yes, send it"))
    assert page.get_by_text("Sent to intake@direct.hillside.example.").is_visible()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["intake@direct.hillside.example"]
    assert mail.outbox[0].attachments[0][0] == "health-record.pdf"
    copy = RecordTransmission.objects.get()
    assert (copy.channel, copy.format) == ("direct", "pdf")
    assert page.get_by_role("heading", name="Copies of this record you sent").is_visible()
