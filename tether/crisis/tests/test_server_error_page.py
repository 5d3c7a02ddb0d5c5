from __future__ import annotations

from django.test import RequestFactory
from django.views.defaults import server_error


def test_it_shows_crisis_numbers_when_the_whole_site_fails():
    # Django renders 500.html without a request context: no database is needed.
    response = server_error(RequestFactory().get("/messages/"))
    page = response.content.decode()
    assert response.status_code == 500
    assert 'href="tel:988"' in page
    assert 'href="tel:911"' in page
    assert "may NOT have reached your care team" in page
