from __future__ import annotations

from django.urls import reverse

URL = reverse("portal:welcome")


def test_it_explains_the_portal_as_part_of_treatment(cast, client_as):
    body = client_as(cast.patient).get(URL).content.decode()
    assert "Tether is part of your treatment" in body
    assert "Tether is not for emergencies." in body
    assert "You are in Adult IOP." in body


def test_it_goes_home_and_is_not_shown_again(cast, client_as):
    cast.patient.has_seen_welcome = False
    cast.patient.save(update_fields=["has_seen_welcome"])
    client = client_as(cast.patient)
    response = client.post(URL)
    assert response["Location"] == reverse("portal:home")
    cast.patient.refresh_from_db()
    assert cast.patient.has_seen_welcome
    assert client.get(reverse("home"))["Location"] == reverse("portal:home")


def test_it_checks_access(cast, client_as):
    assert client_as(cast.patient).get(URL).status_code == 200
    for persona in ("parent", "assigned_clinician", "other_org_clinician"):
        assert client_as(getattr(cast, persona)).get(URL).status_code == 404, persona
