"""Issue 17: the clinical lead reads the program's own numbers in Chromium.

The lead opens the reports from the navigation, narrows them to one clinician, and
downloads a table as CSV; the file holds what the page shows, with small counts
suppressed. axe-core runs on every page. (The utilization-review packet has its own
journey, next to the consent pages.)
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.utils import timezone

from tether.checkins.sync import sync_instruments
from tether.reports.testing import admit, at, session
from tether.scheduling.models import Attendance
from tether.testing.browser import sign_in_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in_staff(browser: Any, user: Any) -> None:
    sync_instruments()  # the outcome thresholds come from the instrument definitions
    sign_in_staff(browser, user)


def _caseload(cast: Any) -> None:
    """Dana's caseload: 12 more episodes admitted 30 days ago, 3 of them ended
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


def test_the_lead_filters_to_one_clinician_and_downloads_a_table(desktop, cast):
    _caseload(cast)
    _sign_in_staff(desktop, cast.clinical_lead)
    page = desktop.page
    desktop.click(page.get_by_role("link", name="Reports", exact=True))
    assert page.get_by_role("heading", name="Program reports").is_visible()
    assert page.get_by_role("heading", name="Outcomes (last observation) by program").is_visible()

    page.get_by_label("Clinician", exact=True).select_option(label="Dana Staff")
    desktop.click(page.get_by_role("button", name="Show figures"))
    assert "clinician=" in page.url
    assert page.get_by_label("Clinician", exact=True).input_value() == str(
        cast.assigned_clinician.staff_member.pk
    )
    # The trend week by week for this clinician, and no other clinician's row.
    by_clinician = page.locator("#table-weekly-by-clinician")
    assert by_clinician.get_by_role("rowheader").first.is_visible()
    assert by_clinician.get_by_text("Dana Staff").first.is_visible()
    assert by_clinician.get_by_text("Uri Staff").count() == 0

    table = page.locator("#table-dropout-by-clinician")
    with page.expect_download() as download_info:
        table.get_by_role("link", name="Download").click()
    download = download_info.value
    assert download.suggested_filename.startswith("tether-dropout-by-clinician-")
    text = download.path().read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("# Admissions, and discharges by kind of ending by clinician")
    rows = list(csv.reader(io.StringIO("\n".join(lines[1:]))))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Clinician", "Admitted", "Discharged"]
    dana = dict(zip(header, next(r for r in body if r[0] == "Dana Staff"), strict=True))
    everyone = dict(zip(header, next(r for r in body if r[0] == "All"), strict=True))
    assert dana["Admitted"] == everyone["Admitted"] == "14"
    # 3 unplanned endings: a count from 1 to 10, suppressed in the file as on the page.
    assert dana["Unplanned endings (dropout)"] == "*"
    assert [r[0] for r in body] == ["Dana Staff", "All"]
    desktop.assert_every_page_checked()


def test_a_clinician_filter_that_would_isolate_patients_is_refused(desktop, cast):
    # Dana has the cast's two patients only: fewer than 11.
    _sign_in_staff(desktop, cast.clinical_lead)
    page = desktop.page
    desktop.goto("/staff/reports/")
    page.get_by_label("Clinician", exact=True).select_option(label="Dana Staff")
    desktop.click(page.get_by_role("button", name="Show figures"))
    alert = page.get_by_role("alert")
    assert alert.get_by_text("fewer than 11 patients").is_visible()
    assert page.get_by_role("link", name="Download").count() == 0
    desktop.assert_every_page_checked()
