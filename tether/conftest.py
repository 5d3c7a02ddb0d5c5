from __future__ import annotations

import pytest
from django.test import Client

from tether.testing.cast import Cast, build_cast, sign_in


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, plus the table of the test-only encrypted model."""
    from tether.lib.tests.encrypted_models import create_encrypted_note_table

    with django_db_blocker.unblock():
        create_encrypted_note_table()


@pytest.fixture
def cast(db: None) -> Cast:
    return build_cast()


@pytest.fixture
def client_as(client: Client):
    """``client_as(user)``: the test client, signed in as that person."""

    def _client_as(user):
        client.logout()
        return sign_in(client, user)

    return _client_as


@pytest.fixture(autouse=True)
def _empty_cache():
    # Rate limits count in the cache (tether/accounts/throttle.py): each test starts at zero.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _english_again_after_each_test():
    # A request in another language (Accept-Language, a saved choice) leaves it active in
    # the thread after the response; the next test starts in the default language.
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 is deliberately slow; tests that check hashing itself opt back in.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- Browser tests -------------------------------------------------------------------
# Marked ``@pytest.mark.browser``. Without Chromium they are skipped and the run
# says so at the end; with TETHER_REQUIRE_BROWSER_TESTS=1 (CI) they fail instead.

_CHROMIUM_MISSING = "Chromium not found"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if _CHROMIUM_MISSING in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.write_line(
            f"BROWSER TESTS SKIPPED: {len(skipped)} test(s) need Chromium at /usr/bin/chromium "
            "(apt-get install -y chromium). Everything else ran.",
            yellow=True,
            bold=True,
        )


@pytest.fixture(scope="session")
def chromium():
    import os

    from tether.testing.browser import CHROMIUM, chromium_available, launch_chromium

    if not chromium_available():
        message = f"{_CHROMIUM_MISSING} at {CHROMIUM}"
        if os.environ.get("TETHER_REQUIRE_BROWSER_TESTS") == "1":
            pytest.fail(message + " and TETHER_REQUIRE_BROWSER_TESTS=1", pytrace=False)
        pytest.skip(message)

    with launch_chromium() as browser:
        yield browser


@pytest.fixture
def phone(chromium, live_server):
    """A fresh 360-px-wide phone browser (its own cookies) against the live server."""
    from tether.testing.browser import PHONE, Browser

    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    browser = Browser(page=context.new_page(), base_url=live_server.url)
    yield browser
    browser.assert_every_page_checked()
    context.close()


@pytest.fixture
def desktop(chromium, live_server):
    from tether.testing.browser import DESKTOP, Browser

    context = chromium.new_context(viewport=DESKTOP)
    browser = Browser(page=context.new_page(), base_url=live_server.url)
    yield browser
    browser.assert_every_page_checked()
    context.close()
