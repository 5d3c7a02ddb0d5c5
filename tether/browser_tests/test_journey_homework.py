"""Homework over two visits, and the safety plan with no network.

A clinician assigns a thought record and a diary card; the patient fills them in
on a 360 px phone over two visits and marks them done; the clinician sees the
completion and the answers. Then the patient keeps the safety plan on the phone,
opens it with the network off, and signs out, which removes it.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Error as PlaywrightError

from tether.accounts.tests.helpers import current_code
from tether.homework.models import Assignment
from tether.privacy.models import Purpose
from tether.safetyplan.services import safety_plan_save
from tether.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in_patient(phone: Any) -> Any:
    phone.goto("/accounts/sign-in/")
    page = phone.page
    page.get_by_label("Username or email").fill("maria.g")
    page.get_by_label("Password").fill(PASSWORD)
    phone.click(page.get_by_role("button", name="Sign in"))


def _sign_in_clinician(desktop: Any, cast: Any) -> Any:
    desk = desktop.page
    desktop.goto("/accounts/sign-in/")
    desk.get_by_label("Username or email").fill("dana.clinician")
    desk.get_by_label("Password").fill(PASSWORD)
    desktop.click(desk.get_by_role("button", name="Sign in"))
    device = TOTPDevice.objects.get(user=cast.assigned_clinician)
    desk.get_by_label("6-digit code from your app").fill(current_code(device))
    desktop.click(desk.get_by_role("button", name="Continue"))


def _assign(desktop: Any, cast: Any, title: Any, due: Any) -> Any:
    desk = desktop.page
    desktop.goto(f"/staff/patients/{cast.patient.patient.pk}/homework/assign/")
    desk.get_by_label("Homework").select_option(label=title)
    desk.get_by_label("Due on").fill(due.isoformat())
    desk.get_by_label("Note for the patient (optional)").fill(f"Please try the {title.lower()}")
    desktop.click(desk.get_by_role("button", name="Assign"))
    assert desk.get_by_text("Homework assigned.").is_visible()


def test_a_patient_does_homework_over_two_visits_and_the_clinician_sees_it(desktop, phone, cast):
    due = timezone.localdate() + timedelta(days=6)
    _sign_in_clinician(desktop, cast)
    _assign(desktop, cast, "Thought record", due)
    _assign(desktop, cast, "Diary card", due)

    # First visit: the patient starts both and stops part-way.
    page = phone.page
    _sign_in_patient(phone)
    assert page.get_by_role("heading", name="Your homework").is_visible()
    phone.click(page.get_by_role("link", name="Thought record"))
    assert page.get_by_text("Step 1 of 5").is_visible()
    page.get_by_label("What happened?").fill("My manager criticised my report")
    phone.click(page.get_by_role("button", name="Save and go on"))
    page.get_by_label("What did you feel?").fill("Ashamed")
    page.get_by_role("radio", name="7").check()
    phone.click(page.get_by_role("button", name="Save and finish later"))
    assert page.get_by_text("Saved. You can come back to it any time.").is_visible()
    phone.click(page.get_by_role("link", name="Diary card"))
    page.get_by_role("group", name="Urge to drink or use").get_by_role("radio", name="2").check()
    page.get_by_role("checkbox", name="Mindfulness").check()
    phone.click(page.get_by_role("button", name="Save and finish later"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.locator("summary", has_text="More").click()  # Sign out is under "More"
    phone.click(page.get_by_role("button", name="Sign out"))

    # Second visit: what was written is still there; both get finished.
    _sign_in_patient(phone)
    phone.click(page.get_by_role("link", name="Thought record"))
    assert page.get_by_label("What happened?").input_value() == "My manager criticised my report"
    phone.click(page.get_by_role("button", name="Save and go on"))
    assert page.get_by_label("What did you feel?").input_value() == "Ashamed"
    phone.click(page.get_by_role("button", name="Save and go on"))
    page.get_by_label("What were you thinking?").fill("I am useless at my job")
    phone.click(page.get_by_role("button", name="Save and go on"))
    page.get_by_label("Another way to see it").fill("One report is not my whole job")
    phone.click(page.get_by_role("button", name="Save and go on"))
    page.get_by_role("radio", name="4").check()
    phone.click(page.get_by_role("button", name="Save and review"))
    assert page.get_by_text("One report is not my whole job").is_visible()
    phone.click(page.get_by_role("button", name="Mark as done"))
    phone.click(page.get_by_role("link", name="Diary card"))
    for _day in range(7):
        last = page.get_by_role("button", name="Save and review")
        phone.click(last if last.count() else page.get_by_role("button", name="Save and go on"))
    phone.click(page.get_by_role("button", name="Mark as done"))
    assert page.get_by_text("Nothing to do right now.").is_visible()
    assert Assignment.objects.filter(status="done").count() == 2

    # The clinician sees completion and the answers, and leaves feedback.
    desk = desktop.page
    desktop.goto(f"/staff/patients/{cast.patient.patient.pk}/homework/")
    assert desk.get_by_text("Last 28 days: 2 of 2 done (100%) · late 0").is_visible()
    desktop.click(desk.get_by_role("link", name="Thought record"))
    assert desk.get_by_text("I am useless at my job").is_visible()
    desk.get_by_label("Feedback the patient will see").fill("Great balanced thought.")
    desktop.click(desk.get_by_role("button", name="Save feedback"))
    desktop.goto(f"/staff/patients/{cast.patient.patient.pk}/homework/")
    diary = Assignment.objects.get(template_key="dbt_diary_card")
    desktop.goto(f"/staff/patients/{cast.patient.patient.pk}/homework/{diary.pk}/")
    assert desk.get_by_text("Mindfulness").first.is_visible()

    phone.goto("/me/homework/")
    assert page.get_by_text("Great balanced thought.").is_visible()


def _page_weight(phone: Any, path: Any) -> Any:
    """Bytes transferred for one page load with an empty cache (CDP encodedDataLength)."""
    page = phone.page
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    sizes: dict[str, int] = {}
    cdp.on(
        "Network.loadingFinished",
        lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]),
    )
    phone.goto(path)
    page.wait_for_load_state("networkidle")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
    cdp.detach()
    return sum(sizes.values())


def test_the_safety_plan_opens_offline_after_opting_in_and_is_gone_after_sign_out(phone, cast):
    safety_plan_save(
        patient=cast.patient.patient,
        author=cast.assigned_clinician,
        content={"warning_signs": "I stop answering texts", "coping_strategies": "Cold shower"},
        based_on=0,
        purpose=Purpose.TREATMENT,
    )
    page = phone.page
    _sign_in_patient(phone)
    weights = {"home": _page_weight(phone, "/me/")}
    # One tap from every patient page.
    phone.click(page.get_by_role("link", name="My safety plan"))
    weights["safety_plan"] = _page_weight(phone, "/me/safety-plan/")
    out = os.environ.get("TETHER_PAGE_WEIGHT_FILE")
    if out:
        Path(out).write_text(json.dumps(weights))
    assert weights["home"] < 100_000 and weights["safety_plan"] < 100_000

    assert page.get_by_role("link", name="Call 988", exact=True).get_attribute("href") == "tel:988"
    assert page.get_by_role("link", name="Text 988", exact=True).get_attribute("href") == "sms:988"
    section = page.locator("#offline")
    assert section.get_attribute("data-offline-state") == "not-kept"
    page.get_by_role("button", name="Keep my safety plan on this phone").click()
    page.wait_for_selector("#offline[data-offline-state=kept]")
    phone.check_accessibility()
    assert page.get_by_role("button", name="Remove it from this phone").is_visible()

    # No network: the phone still opens the plan, the numbers and the crisis page.
    page.context.set_offline(True)
    phone.goto("/me/safety-plan/")
    assert page.get_by_text("This is the copy kept on this phone.").is_visible()
    assert page.get_by_text("I stop answering texts").is_visible()
    assert page.get_by_role("link", name="Call 988", exact=True).is_visible()
    assert page.get_by_role("link", name="Call 5550100").count() == 0
    assert page.locator('a[href="tel:5550100"]').first.is_visible()
    phone.goto("/crisis/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("You don't have to")
    page.context.set_offline(False)

    # Signing out removes it: offline, the plan no longer opens.
    phone.goto("/me/safety-plan/")
    page.locator("summary", has_text="More").click()  # Sign out is under "More"
    phone.click(page.get_by_role("button", name="Sign out"))
    assert page.evaluate("caches.keys()") == []
    page.context.set_offline(True)
    with pytest.raises(PlaywrightError):
        page.goto(phone.url("/me/safety-plan/"))
    page.context.set_offline(False)


def test_removing_the_copy_leaves_nothing_on_the_phone(phone, cast):
    page = phone.page
    _sign_in_patient(phone)
    phone.goto("/me/safety-plan/")
    page.get_by_role("button", name="Keep my safety plan on this phone").click()
    page.wait_for_selector("#offline[data-offline-state=kept]")
    page.get_by_role("button", name="Remove it from this phone").click()
    page.wait_for_selector("#offline[data-offline-state=removed]")
    phone.check_accessibility()
    assert page.evaluate("caches.keys()") == []
    page.context.set_offline(True)
    with pytest.raises(PlaywrightError):
        page.goto(phone.url("/me/safety-plan/"))
    page.context.set_offline(False)
