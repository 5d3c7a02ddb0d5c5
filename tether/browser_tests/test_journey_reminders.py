"""A patient on a 360 px phone finds "Reminders" under "More", turns texts on with
their number and quiet hours, and sees the choice kept; axe-core passes on the page."""

from __future__ import annotations

from typing import Any

import pytest

from tether.outreach.models import ContactPreference, SmsConsentEvent
from tether.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_patient_turns_on_text_reminders_on_a_phone(phone: Any, cast: Any) -> None:
    page = phone.page
    page.set_viewport_size({"width": 360, "height": 740})
    phone.goto("/accounts/sign-in/")
    page.get_by_label("Username or email").fill("maria.g")
    page.get_by_label("Password").fill(PASSWORD)
    phone.click(page.get_by_role("button", name="Sign in"))
    nav = page.get_by_role("navigation", name="Main")
    nav.locator("summary", has_text="More").click()
    phone.click(nav.get_by_role("link", name="Reminders"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.get_by_label("Yes, send me text messages").check()
    page.get_by_label("Your mobile number for texts").fill("(413) 555-0142")
    page.get_by_label("No messages from").fill("22:00")
    phone.click(page.get_by_role("button", name="Save"))

    assert page.get_by_text("Saved. You can change this at any time.").is_visible()
    assert page.get_by_label("Yes, send me text messages").is_checked()
    pref = ContactPreference.objects.get(patient=cast.patient.patient)
    assert pref.sms_phone == "+14135550142" and pref.quiet_from.hour == 22
    assert SmsConsentEvent.objects.filter(patient=cast.patient.patient, change="opt_in").exists()


# The browser's push service (FCM for Chromium) is out of reach in tests: the page's
# PushManager is replaced by one that hands out a fixed subscription, so the journey
# runs the page's own script, the service worker's registration and the server's
# endpoint, and only the push service itself is pretended.
_FAKE_PUSH = """
(() => {
  // Kept across pages like a real subscription (this tab's sessionStorage).
  const make = () => ({
    endpoint: "https://push.example/send/fake-endpoint-1",
    toJSON() { return {endpoint: this.endpoint, keys: {p256dh: "BPfake-p256dh", auth: "fake-auth"}}; },
    unsubscribe() { sessionStorage.removeItem("fakePush"); return Promise.resolve(true); },
  });
  PushManager.prototype.subscribe = function () {
    sessionStorage.setItem("fakePush", "1");
    return Promise.resolve(make());
  };
  PushManager.prototype.getSubscription = function () {
    return Promise.resolve(sessionStorage.getItem("fakePush") ? make() : null);
  };
})();
"""


def test_a_patient_turns_notifications_on_and_off_on_this_phone(phone, cast, settings):
    from tether.outreach.models import PushSubscription

    settings.VAPID_PUBLIC_KEY = (  # a public key's shape (65 bytes, base64url); not used
        "BEl62iUYgUivxIkv69yViEuiBIa-Ib9-SkvMeAtA3LFgDzkrxZJjSgSnfckjBJuBkr3qBUYIHBQFLXYp5Nksh8U"
    )
    page = phone.page
    page.context.grant_permissions(["notifications"])
    page.add_init_script(_FAKE_PUSH)
    phone.goto("/accounts/sign-in/")
    page.get_by_label("Username or email").fill("maria.g")
    page.get_by_label("Password").fill(PASSWORD)
    phone.click(page.get_by_role("button", name="Sign in"))
    phone.goto("/me/reminders/")
    panel = page.locator("#push-panel")
    panel.get_by_role("button", name="Turn on notifications on this phone").click()
    panel.get_by_text("This phone gets notifications.").wait_for()
    sub = PushSubscription.objects.get()
    assert sub.patient == cast.patient.patient
    assert (sub.endpoint, sub.p256dh, sub.auth) == (
        "https://push.example/send/fake-endpoint-1",
        "BPfake-p256dh",
        "fake-auth",
    )
    phone.check_accessibility()

    phone.goto("/me/reminders/")  # the page knows this phone is subscribed
    assert page.get_by_text("1 device gets notifications.").is_visible()
    panel.get_by_role("button", name="Turn off notifications on this phone").click()
    panel.get_by_text("This phone does not get notifications.").wait_for()
    assert not PushSubscription.objects.exists()
    phone.check_accessibility()
