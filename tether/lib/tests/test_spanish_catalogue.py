"""Every message a patient or a family member reads has its Spanish.

Messages are extracted from the patient- and family-facing templates and Python
modules (tether/lib/catalogue.py) and looked up in the committed, compiled Spanish
catalogue. A new string on a patient page fails here until it is translated
(docs/I18N.md: makemessages, translate, compilemessages).
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from tether.lib import catalogue


def test_it_finds_the_patient_messages():
    messages = catalogue.patient_messages()
    assert len(messages) > 500
    assert ("", "Need help now?", "") in messages  # the crisis bar
    assert ("", "Your safety plan", "") in messages  # the item-9 support page
    names = {path.name for path in catalogue.patient_templates()}
    assert {"login.html", "question.html", "support.html", "crisis.html"} <= names
    assert "review.html" not in names  # the clinician's review stays out


def test_every_patient_message_has_its_spanish():
    missing = catalogue.untranslated()
    listed = "\n".join(f"  {where}: {msgid!r}" for (_, msgid, _), where in sorted(missing.items()))
    assert not missing, f"{len(missing)} patient-facing messages have no Spanish:\n{listed}"


def test_it_notices_a_message_without_spanish():
    empty: dict[object, str] = {}
    key = ("", "Need help now?", "")
    assert not catalogue.is_translated(key, empty)
    assert catalogue.is_translated(key, catalogue.spanish_catalogue())


@pytest.mark.parametrize(
    ("english", "spanish"),
    [
        ("Need help now?", "¿Necesita ayuda ahora?"),
        ("Sign in", "Iniciar sesión"),
    ],
)
def test_django_serves_the_spanish(english, spanish):
    with translation.override("es"):
        assert translation.gettext(english) == spanish


def test_the_signed_out_crisis_page_reads_in_spanish(db, client):
    response = client.get(reverse("crisis:crisis"), headers={"accept-language": "es"})
    body = response.content.decode()
    assert "¿Necesita ayuda ahora?" in body
    assert "AYUDA" in body and "988lineadevida.org" in body
    assert "Need help now?" not in body
