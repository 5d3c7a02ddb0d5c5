from __future__ import annotations

import pytest

from tether.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_signs_a_patient_in_and_out(phone, cast):
    page = phone.page
    phone.goto("/")
    assert "/accounts/sign-in/" in page.url
    page.get_by_label("Username or email").fill("Maria.G")  # case does not matter
    page.get_by_label("Password").fill(PASSWORD)
    phone.click(page.get_by_role("button", name="Sign in"))
    assert page.get_by_role("heading", level=1).inner_text() == "Hi Maria"
    assert page.get_by_role("link", name="Need help now?").is_visible()
    page.locator("summary", has_text="More").click()  # Sign out is under "More"
    phone.click(page.get_by_role("button", name="Sign out"))
    assert page.get_by_text("You are signed out").is_visible()
    # The old session is gone on the server: going back does not show her page.
    phone.goto("/me/")
    assert "/accounts/sign-in/" in page.url


def test_it_explains_a_wrong_password_and_keeps_the_username(phone, cast):
    page = phone.page
    phone.goto("/accounts/sign-in/")
    page.get_by_label("Username or email").fill("maria.g")
    page.get_by_label("Password").fill("not her password")
    phone.click(page.get_by_role("button", name="Sign in"))
    assert (
        page.get_by_role("alert").inner_text().startswith("That username and password don't match")
    )
    assert page.get_by_label("Username or email").input_value() == "maria.g"
