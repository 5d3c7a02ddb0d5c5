from __future__ import annotations

from typing import Any

from django.urls import reverse

from tether.consent import shared_device
from tether.testing.cast import PASSWORD


def _shared(client_as: Any, cast: Any) -> Any:
    client = client_as(cast.patient)
    client.post(reverse("consent:device"), {"shared": "1"})
    assert client.cookies[shared_device.COOKIE].value == "1"
    return client


def test_a_shared_device_shows_only_the_quick_view(cast, client_as):
    client = _shared(client_as, cast)
    for name in ("portal:home", "checkins:progress", "messaging:thread", "safety_plan:view"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"] == reverse("consent:quick_view")
    page = client.get(reverse("consent:quick_view")).content.decode()
    assert "only your appointments and help show" in page
    assert client.get(reverse("crisis:crisis")).status_code == 200


def test_a_full_sign_in_opens_the_record(cast, client_as):
    client = _shared(client_as, cast)
    wrong = client.post(reverse("consent:unlock"), {"password": "not it"})
    assert "That password is not right" in wrong.content.decode()
    assert client.get(reverse("portal:home")).status_code == 302
    client.post(reverse("consent:unlock"), {"password": PASSWORD})
    assert client.get(reverse("portal:home")).status_code == 200


def test_part2_needs_the_affirmative_step_too(cast, client_as):
    cast.iop.treats_substance_use = True
    cast.iop.save(update_fields=["treats_substance_use"])
    client = _shared(client_as, cast)
    client.post(reverse("consent:unlock"), {"password": PASSWORD})
    response = client.get(reverse("portal:home"))
    assert response["Location"] == reverse("consent:show_part2")
    client.post(reverse("consent:show_part2"))
    assert client.get(reverse("portal:home")).status_code == 200


def test_an_unshared_device_is_unchanged(cast, client_as):
    client = client_as(cast.patient)
    assert client.get(reverse("portal:home")).status_code == 200
    client = _shared(client_as, cast)
    client.post(reverse("consent:device"), {"shared": "0"})
    assert client.get(reverse("portal:home")).status_code == 200
