"""Families in a browser: the care team invites a parent of a teen by QR code with the
teen's assent, the parent opens the link on a phone, chooses a password and sees the
attendance they are allowed to see; the care team then removes the parent. axe on
every page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tether.browser_tests.test_journey_schedule import _sign_in
from tether.patients.models import Proxy
from tether.scheduling.models import Attendance
from tether.scheduling.tests.conftest import current_meeting, started_group

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NEW_PASSWORD = "river stones and quiet mornings"


def test_a_parent_is_invited_by_qr_sees_attendance_and_is_removed(
    desktop: Any, phone: Any, cast: Any
) -> None:
    teen = cast.adolescent.patient
    group = started_group(cast, patients=[])
    # The teen's group: one meeting, marked late.
    Attendance.objects.create(
        organization=cast.organization,
        appointment=current_meeting(group),
        patient=teen,
        episode=teen.episodes.get(),
        status="late",
    )
    browser, page = desktop, desktop.page
    _sign_in(browser, cast.assigned_clinician)
    browser.goto(f"/staff/patients/{teen.pk}/")
    browser.click(page.get_by_role("link", name="Family members"))
    page.get_by_label("First name").fill("Ana")
    page.get_by_label("Last name").fill("Kim")
    page.get_by_label("Relationship").select_option("parent")
    page.get_by_label("Legal guardian").check()
    page.get_by_label("Attendance").check()
    # Without the teen's assent: refused, what was typed kept.
    browser.click(page.get_by_role("button", name="Create the invitation"))
    assert page.get_by_text("Ask the patient first").is_visible()
    assert page.get_by_label("First name").input_value() == "Ana"
    page.get_by_label("The patient agreed to these (for a teen: their assent)").check()
    browser.click(page.get_by_role("button", name="Create the invitation"))
    assert page.locator(".qr svg").count() == 1
    found = re.search(r"/accounts/invite/[^/]+/", page.locator(".invite-link").inner_text())
    assert found is not None

    # The parent, on their phone.
    phone.goto(found.group(0))
    phone.page.get_by_label("New password").fill(NEW_PASSWORD)
    phone.page.get_by_label("Type the same password again").fill(NEW_PASSWORD)
    phone.click(phone.page.get_by_role("button", name="Save my password"))
    assert phone.page.get_by_text("Evening skills group: Attended, late").is_visible()

    # The care team ends the access.
    browser.click(page.get_by_role("link", name="Back to family members"))
    browser.click(page.get_by_role("button", name="End access for Ana Kim"))
    assert page.get_by_text("Their access ended now.").is_visible()
    assert not Proxy.objects.get(user__first_name="Ana").is_active
    phone.goto("/me/family/")
    assert phone.page.get_by_text("No one has shared their information with you yet.").is_visible()
    browser.assert_every_page_checked()
    phone.assert_every_page_checked()
