"""The audit pages on a 360-px phone in headless Chromium, axe-core on every page."""

from __future__ import annotations

import pytest
from django.test import Client

from tether.privacy import audit
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category, Relation
from tether.testing.cast import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_in(browser, live_server, user) -> None:
    """Give the browser the session of a person who has signed in (past two-step)."""
    client = sign_in(Client(), user)
    browser.page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def _fits_the_screen(phone) -> None:
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 360


def _looked(cast, actor, patient, **kwargs) -> None:
    audit.record(
        request=None,
        actor=actor,
        patient=patient,
        action=Action.VIEW,
        category=kwargs.pop("category", Category.GENERAL),
        purpose=Purpose.TREATMENT,
        outcome=kwargs.pop("outcome", AuditEvent.Outcome.ALLOWED),
        relation=Relation.CARE_TEAM,
    )


def test_it_shows_a_patient_who_looked_at_their_record(phone, live_server, cast):
    _looked(cast, cast.assigned_clinician, cast.patient.patient)
    _signed_in(phone, live_server, cast.patient)
    page = phone.page

    phone.goto("/me/")
    phone.click(page.get_by_role("link", name="Who has looked at my record"))
    assert page.get_by_role("heading", level=1).inner_text() == "Who has looked at your record"
    assert "A clinician on your care team looked at your record at" in page.inner_text("main")
    assert page.get_by_role("link", name="Need help now?").is_visible()
    _fits_the_screen(phone)


def test_it_lets_a_privacy_officer_filter_the_trail_on_a_phone(phone, live_server, cast):
    _looked(cast, cast.assigned_clinician, cast.patient.patient)
    _looked(
        cast, cast.unassigned_clinician, cast.patient.patient, outcome=AuditEvent.Outcome.DENIED
    )
    _signed_in(phone, live_server, cast.privacy_officer)
    page = phone.page

    phone.goto("/staff/")
    phone.click(page.get_by_role("link", name="Audit reports"))
    assert page.get_by_role("heading", level=1).inner_text() == "Audit report"
    _fits_the_screen(phone)

    page.get_by_label("User (username)").fill("nobody.at.all")
    phone.click(page.get_by_role("button", name="Show events"))
    assert "No one in your organization has this username." in page.inner_text("main")
    assert page.get_by_label("User (username)").input_value() == "nobody.at.all"

    page.get_by_label("User (username)").fill("uri.clinician")
    page.get_by_label("Patient record number (MRN)").fill("MRN-maria.g")
    phone.click(page.get_by_role("button", name="Show events"))
    main = page.inner_text("main")
    assert "Uri Staff" in main and "Dana Staff" not in main
    assert "maria" not in page.url.lower() and "uri" not in page.url.lower()
    _fits_the_screen(phone)


def test_it_shows_the_audit_report_on_a_desktop(desktop, live_server, cast):
    for _ in range(3):
        _looked(cast, cast.assigned_clinician, cast.patient.patient)
    _signed_in(desktop, live_server, cast.clinical_lead)
    desktop.goto("/privacy/audit/")
    rows = desktop.page.locator("tbody tr")
    assert rows.count() == 3  # this page's own reading is written as the page ends
    desktop.goto("/privacy/audit/")
    assert rows.count() == 3 + 1  # and there it is on the next look, newest first
    assert "Audit and privacy review" in rows.first.inner_text()
    desktop.click(desktop.page.get_by_role("link", name="Time"))
    assert "sort=oldest" in desktop.page.url
