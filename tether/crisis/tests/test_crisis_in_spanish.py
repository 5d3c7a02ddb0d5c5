"""Crisis help in Spanish: the bar on every page, the signed-out crisis page and the
outage page give 988's Spanish service (press 2; AYUDA by text; 988lineadevida.org,
../shared/reference/clinical.md)."""

from __future__ import annotations

from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from tether.accounts.models import User
from tether.crisis import offline

SPANISH = {"accept-language": "es"}


def test_the_crisis_bar_gives_988_in_spanish_on_a_patient_page(cast, client_as):
    User.objects.filter(pk=cast.patient.pk).update(language="es")
    body = client_as(cast.patient).get(reverse("portal:home")).content.decode()
    assert "Llame al 988 y marque 2" in body
    assert 'href="sms:988?&amp;body=AYUDA"' in body
    assert "Envíe AYUDA al 988" in body


def test_the_signed_out_crisis_page_gives_988_in_spanish(db, client):
    body = client.get(reverse("crisis:crisis"), headers=SPANISH).content.decode()
    assert "En español: llame al 988 y marque 2, o envíe la palabra AYUDA" in body
    assert "988lineadevida.org" in body
    assert "Envíe AYUDA al 988" in body  # the bar
    assert "Llamar al 911" in body


def test_english_readers_keep_the_short_bar(db, client):
    body = client.get(reverse("crisis:crisis")).content.decode()
    assert "Call or text 988" in body
    assert "AYUDA to 988" not in body.split("</nav>")[0]


def test_the_outage_page_is_in_spanish_without_the_database(db):
    request = RequestFactory().get("/crisis/")
    with translation.override("es"):
        response = offline.unavailable(request)
    body = response.content.decode()
    assert response.status_code == 503
    assert "Tether no está disponible en este momento" in body
    assert "Envíe AYUDA al 988" in body
