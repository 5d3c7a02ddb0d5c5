"""The closed loop: an urgent request at 22:00, on-call, escalation, the lead closes it.

The clock is driven, never slept on: the crisis services read the time from a clock
this test moves, and the escalation sweep is called with a later ``now``. The
timeline the test walks through is printed (``pytest -s``) for the release notes.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any
from unittest import mock

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.tests.helpers import current_code
from tether.crisis import services
from tether.crisis.health import scheduler_beat
from tether.crisis.models import UrgentContactRequest
from tether.messaging.models import Message
from tether.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NY = zoneinfo.ZoneInfo("America/New_York")


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.current = start

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, minutes: int) -> dt.datetime:
        self.current += dt.timedelta(minutes=minutes)
        return self.current


def _sign_in_patient(phone: Any) -> None:
    phone.goto("/accounts/sign-in/")
    page = phone.page
    page.get_by_label("Username or email").fill("maria.g")
    page.get_by_label("Password").fill(PASSWORD)
    phone.click(page.get_by_role("button", name="Sign in"))


def _sign_in_staff(desktop: Any, user: Any) -> None:
    page = desktop.page
    desktop.goto("/accounts/sign-in/")
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    desktop.click(page.get_by_role("button", name="Sign in"))
    device = TOTPDevice.objects.get(user=user)
    page.get_by_label("6-digit code from your app").fill(current_code(device))
    desktop.click(page.get_by_role("button", name="Continue"))


def test_an_urgent_request_at_night_escalates_and_is_closed_by_the_lead(phone, desktop, cast):
    # The test plays the scheduler (it calls the escalation sweep itself): record its
    # heartbeat, or staff pages rightly warn that background work has stopped.
    scheduler_beat()
    # A Wednesday, 22:00 in the program's time zone: after hours.
    clock = Clock(dt.datetime(2026, 11, 25, 22, 0, tzinfo=NY))
    timeline: list[str] = []

    def note(what: str) -> None:
        timeline.append(f"{clock.current.astimezone(NY):%H:%M} {what}")

    with mock.patch.object(services, "timezone", clock):
        # The patient asks from the crisis bar on her phone.
        _sign_in_patient(phone)
        page = phone.page
        phone.click(page.get_by_role("link", name="Need help now?"))
        phone.click(page.get_by_role("button", name="Ask my care team to contact me urgently"))
        assert page.get_by_text("We received your request. Expect a call by 10:45 PM.").is_visible()
        assert page.get_by_text("It is after hours, so we told the on-call clinician.").is_visible()
        assert page.get_by_text("If you are in danger now, call 988 or 911.").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        status_url = page.url
        note("patient asks for urgent contact (crisis page button); routed to on-call")

        # On-call sees it.
        _sign_in_staff(desktop, cast.on_call)
        desk = desktop.page
        desktop.click(desk.get_by_role("link", name="Notifications"))
        assert desk.get_by_text("Maria Garcia needs urgent contact").is_visible()
        desktop.click(desk.get_by_role("link", name="Urgent requests"))
        assert desk.get_by_role("link", name="Maria Garcia").is_visible()
        assert desk.get_by_text("escalates at 10:15 PM").is_visible()
        note("on-call sees the alert and the request (not acknowledged)")
        desktop.click(desk.get_by_role("button", name="Sign out"))

        # Nobody acknowledges within 15 minutes: the sweep escalates to the clinical lead.
        clock.advance(14)
        assert services.urgent_contact_escalate_due() == 0
        note("sweep: still inside the 15-minute window, nothing moves")
        clock.advance(1)
        assert services.urgent_contact_escalate_due() == 1
        note("sweep: 15 minutes without acknowledgment -> escalated to the clinical lead")
        phone.goto(status_url)
        assert page.get_by_text(
            "No one had answered yet, so we also told the clinical lead."
        ).is_visible()

        # The lead sees the escalation, acknowledges and documents the contact.
        clock.advance(3)
        _sign_in_staff(desktop, cast.clinical_lead)
        # The lead's landing page says it at once (tether/staff/duty.py).
        assert desk.get_by_role("region", name="1 urgent request waiting for you").is_visible()
        desktop.click(desk.get_by_role("link", name="Notifications"))
        assert desk.get_by_role(
            "heading", name="Escalated to you: urgent contact not acknowledged"
        ).is_visible()
        desktop.click(desk.locator("#main").get_by_role("link", name="Open the request"))
        desktop.click(desk.get_by_role("button", name="Acknowledge"))
        assert desk.get_by_text("Acknowledged. The escalation clock has stopped.").is_visible()
        note("clinical lead acknowledges (clock stops)")
        phone.goto(status_url)
        assert page.get_by_text("A clinician has your request and will contact you.").is_visible()

        clock.advance(12)
        desk.get_by_label("Phone call").check()
        desk.get_by_label("Reached; safe, plan agreed").check()
        desk.get_by_label("Safety plan reviewed with the patient").check()
        desk.get_by_label("Next step").fill("Same-day session with Dana at 9 AM.")
        desktop.click(desk.get_by_role("button", name="Save and close"))
        assert desk.get_by_text("Contact documented and the request closed.").is_visible()
        note(
            "clinical lead documents the call (phone, safe with plan, safety plan reviewed) and closes"
        )
        clock.advance(20)
        assert services.urgent_contact_escalate_due() == 0
        note("sweep: closed request, nothing escalates further")

        phone.goto(status_url)
        assert page.get_by_text("Your care team has contacted you about this request").is_visible()
        assert page.get_by_text("Your care team recorded that they contacted you.").is_visible()

    urgent = UrgentContactRequest.objects.get()
    assert [(e.kind, e.level) for e in urgent.events.all()] == [
        ("raised", ""),
        ("routed", "on_call"),
        ("escalated", "clinical_lead"),
        ("acknowledged", "clinical_lead"),
        ("closed", "clinical_lead"),
    ]
    print("\nEscalation timeline (program time):\n" + "\n".join(timeline))


def test_crisis_language_raises_the_pathway_and_an_ordinary_message_does_not(phone, cast):
    _sign_in_patient(phone)
    page = phone.page
    phone.click(page.get_by_role("link", name="Messages"))
    assert page.get_by_text("Messages are not for emergencies.").is_visible()

    page.get_by_role("textbox", name="Your message").fill(
        "This homework is killing me, can we go over it Tuesday?"
    )
    phone.click(page.get_by_role("button", name="Send"))
    assert page.get_by_text("Message sent.").is_visible()
    assert UrgentContactRequest.objects.count() == 0

    page.get_by_role("textbox", name="Your message").fill("I don't want to be alive anymore.")
    phone.click(page.get_by_role("button", name="Send"))
    assert page.get_by_text(
        "We have asked your care team to contact you urgently.", exact=False
    ).first.is_visible()
    urgent = UrgentContactRequest.objects.get()
    assert urgent.source == "message"
    assert Message.objects.filter(auto_reply="crisis").count() == 1
    phone.click(page.get_by_role("link", name="See your urgent request"))
    assert page.get_by_role("heading", name="Your urgent request").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
