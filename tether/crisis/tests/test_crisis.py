from __future__ import annotations

from django.urls import reverse

URL = reverse("crisis:crisis")


def test_it_works_signed_out_with_every_national_line(cast, client):
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'href="tel:988"' in body and 'href="sms:988"' in body
    assert 'href="tel:911"' in body
    assert 'href="sms:741741?&amp;body=HOME"' in body
    # Which programs' lines are listed depends on the host: see test_crisis_host.py.


def test_it_leads_with_the_patients_own_program(cast, client_as):
    body = client_as(cast.adolescent).get(URL).content.decode()
    assert "Your program" in body
    assert "555-0110" in body
    assert "555-0100" not in body


def test_it_shows_a_parent_their_childs_program(cast, client_as):
    body = client_as(cast.parent).get(URL).content.decode()
    assert "555-0110" in body


def test_it_never_lists_another_organizations_program_to_a_patient(cast, client_as):
    body = client_as(cast.patient).get(URL).content.decode()
    assert "555-0900" not in body


def test_it_stays_reachable_before_the_staff_two_step_check(cast, client):
    client.force_login(cast.assigned_clinician)  # password given, code not yet
    assert client.get(URL).status_code == 200
    assert client.get(reverse("staff:dashboard")).status_code == 302


def test_it_is_never_cached(cast, client):
    assert "no-store" in client.get(URL)["Cache-Control"]


def test_a_page_that_is_not_found_still_offers_crisis_help(cast, client, client_as):
    """A stale link or a mistyped address lands on a page with the crisis bar and a way
    home, signed out and signed in, in the reader's language: not a bare "Not Found"."""
    for visitor in (client, client_as(cast.patient), client_as(cast.parent)):
        response = visitor.get("/no-such-page/")
        assert response.status_code == 404
        body = response.content.decode()
        assert "Page not found" in body
        assert 'href="tel:988"' in body and reverse("crisis:crisis") in body
    refused = client_as(cast.patient).get(
        reverse("messaging:family_thread", args=[cast.other_patient.patient.pk])
    )
    assert refused.status_code == 404
    assert 'href="tel:988"' in refused.content.decode()
    spanish = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="es")
    assert "No se encontró la página" in spanish.content.decode()
    assert "AYUDA" in spanish.content.decode()
