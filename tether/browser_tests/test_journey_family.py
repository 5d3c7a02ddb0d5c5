"""The family journey end to end: a parent on a 360 px phone writes to the care team in
the family thread and writes their own part of a family assignment; the clinician at a
desk sees the message marked as family, answers it, and reads the family's part. A
parent without the messaging scope has no link and gets "not found" at the URL. Every
page is checked with axe-core."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.tests.helpers import current_code
from tether.family.models import FamilyAnswers
from tether.homework.library import builtin_library
from tether.homework.models import HomeworkAnswers
from tether.homework.services import answers_save, assignment_create
from tether.messaging.models import Message
from tether.patients.models import Proxy
from tether.privacy.models import Purpose
from tether.testing.cast import PASSWORD
from tether.testing.family import grant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

S = Proxy.Scope
QUESTION = "Could we move Thursday's family session to 5 PM?"
REPLY = "Yes, 5 PM on Thursday works. See you both then."
PARENT_PART = "Jordan telling me about the day without me asking"


def _sign_in(browser: Any, user: Any, *, staff: bool = False) -> None:
    page = browser.page
    browser.goto("/accounts/sign-in/")
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    browser.click(page.get_by_role("button", name="Sign in"))
    if staff:
        device = TOTPDevice.objects.get(user=user)
        page.get_by_label("6-digit code from your app").fill(current_code(device))
        browser.click(page.get_by_role("button", name="Continue"))


def _fits_the_phone(phone: Any) -> None:
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_parent_and_the_clinician_talk_in_the_family_thread_and_share_the_assignment(
    phone, desktop, cast
):
    grant(cast, S.MESSAGING, S.FAMILY_ASSIGNMENTS)
    teen = cast.adolescent.patient
    assignment = assignment_create(
        patient=teen,
        definition=builtin_library()["family_what_helps"],
        assigned_by=cast.assigned_clinician,
        due_on=timezone.localdate() + dt.timedelta(days=7),
        for_family=True,
    )
    answers_save(
        assignment=assignment,
        actor=cast.adolescent,
        values={"1.helps_me": "Pizza night on Fridays"},
        purpose=Purpose.PATIENT_REQUEST,
    )

    # The parent, on a phone: from the family page to the family thread.
    _sign_in(phone, cast.parent)
    page = phone.page
    assert page.get_by_role("heading", name="Family view").is_visible()
    phone.click(page.get_by_role("link", name="Message the care team"))
    assert page.get_by_role("heading", name="Messages with Jordan's care team").is_visible()
    assert page.get_by_text("own messages with their care team are private").is_visible()
    _fits_the_phone(phone)
    page.get_by_label("Your message").fill(QUESTION)
    phone.click(page.get_by_role("button", name="Send"))
    assert page.get_by_text("Message sent.").is_visible()
    assert page.get_by_text(QUESTION).is_visible()

    # Their own part of the family assignment; the teen's answers are never shown.
    phone.click(page.get_by_role("link", name="Back to the family view"))
    phone.click(page.get_by_role("link", name="What helps at home (family)"))
    assert page.get_by_role("heading", name="Your part").is_visible()
    phone.click(page.get_by_role("link", name="Write your part of step 1"))
    page.get_by_label("Things my family does that help me").fill(PARENT_PART)
    phone.click(page.get_by_role("button", name="Save my part"))
    assert page.get_by_text("Saved. The care team can read your part.").is_visible()
    assert page.get_by_text(PARENT_PART).is_visible()
    assert page.get_by_role("link", name="Change your part of step 1").is_visible()
    assert page.get_by_text("Pizza night on Fridays").count() == 0
    _fits_the_phone(phone)
    assert FamilyAnswers.objects.get().author == cast.parent
    assert HomeworkAnswers.objects.get().as_dict() == {"1.helps_me": "Pizza night on Fridays"}

    # The clinician, at a desk: the inbox marks the thread as family.
    _sign_in(desktop, cast.assigned_clinician, staff=True)
    desk = desktop.page
    desktop.click(desk.get_by_role("link", name="Messages", exact=True))
    row = desk.get_by_role("row").filter(has_text="Jordan Kim")
    assert row.get_by_text("Family", exact=True).is_visible()
    assert row.get_by_text("Unread").is_visible()
    desktop.click(row.get_by_role("link", name="Jordan Kim"))
    assert desk.get_by_role("heading", name="Messages with Jordan Kim's family").is_visible()
    assert desk.get_by_text("Grace Kim (family)").is_visible()
    assert desk.get_by_text(QUESTION).is_visible()
    desk.get_by_label("Reply to the family").fill(REPLY)
    desktop.click(desk.get_by_role("button", name="Send reply"))
    assert desk.get_by_text(REPLY).is_visible()
    assert Message.objects.filter(author_kind="staff", thread__kind="family").count() == 1

    # ... and reads the family's part on the assignment's page, labelled as the family's.
    desktop.goto(f"/staff/patients/{teen.pk}/homework/{assignment.pk}/")
    family_part = desk.get_by_role("region", name="The family's part")
    assert family_part.get_by_text("Written by Grace Kim (Parent or guardian)").is_visible()
    assert family_part.get_by_text(PARENT_PART).is_visible()
    assert family_part.get_by_text("Pizza night on Fridays").count() == 0

    # Back on the phone: the reply is there.
    phone.goto(f"/messages/family/{teen.pk}/")
    assert page.get_by_text(REPLY).is_visible()
    assert page.get_by_text("Dana Staff (Clinician) answered").is_visible()


def test_a_parent_without_the_messaging_scope_has_no_link_and_gets_not_found(phone, cast):
    grant(cast, S.FAMILY_ASSIGNMENTS, only=True)
    _sign_in(phone, cast.parent)
    page = phone.page
    assert page.get_by_role("heading", name="Family view").is_visible()
    assert page.get_by_role("link", name="Message the care team").count() == 0
    response = phone.goto(f"/messages/family/{cast.adolescent.patient.pk}/")
    assert response.status == 404
    assert page.get_by_role("heading", name="Page not found").is_visible()
    assert page.get_by_role("link", name="Call or text 988").is_visible()
    assert page.get_by_label("Your message").count() == 0


def test_the_care_team_writes_an_update_the_family_and_the_teen_both_read(phone, desktop, cast):
    """The staff page for family updates, the teen's "sent to your family" page and the
    parent's family page, each checked with axe; the patient pages keep crisis help."""
    grant(cast, S.FAMILY_UPDATES)
    teen = cast.adolescent.patient
    update = "Jordan joined every group this week and led the check-in on Friday."

    _sign_in(desktop, cast.assigned_clinician, staff=True)
    desk = desktop.page
    desktop.goto(f"/staff/patients/{teen.pk}/family-updates/")
    desk.get_by_label("Update for the family").fill(update)
    desktop.click(desk.get_by_role("button", name="Send to the family"))
    assert desk.get_by_text("Update sent to the family.").is_visible()
    assert desk.get_by_text(update).is_visible()

    _sign_in(phone, cast.adolescent)
    page = phone.page
    phone.goto("/me/family-updates/")
    assert page.get_by_role("heading", name="Updates sent to your family").is_visible()
    assert page.get_by_text(update).is_visible()
    assert page.get_by_role("link", name="Need help now?").is_visible()
    _fits_the_phone(phone)

    page.context.clear_cookies()  # the parent, on the same phone
    _sign_in(phone, cast.parent)
    assert page.get_by_role("heading", name="Updates from the care team").is_visible()
    assert page.get_by_text(update).is_visible()
    assert page.get_by_role("link", name="Need help now?").is_visible()
