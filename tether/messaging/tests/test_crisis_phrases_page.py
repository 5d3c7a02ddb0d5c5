from __future__ import annotations

from django.urls import reverse

from tether.messaging.models import CrisisPhrase
from tether.messaging.services import crisis_phrases_for


def test_it_lets_the_lead_add_and_turn_off_phrases(cast, client_as):
    client = client_as(cast.clinical_lead)
    url = reverse("messaging:crisis_phrases")
    page = client.get(url, {"program": cast.iop.pk}).content.decode()
    assert "kill myself" in page
    client.post(url, {"program": cast.iop.pk, "phrase": "Going to Disappear"})
    client.post(url, {"program": cast.iop.pk, "turn_off": "kms"})
    phrases = crisis_phrases_for(cast.iop)
    assert "going to disappear" in phrases
    assert "kms" not in phrases
    page = client.get(url, {"program": cast.iop.pk}).content.decode()
    assert "Turn on “kms”" in page
    empty = client.post(url, {"program": cast.iop.pk, "phrase": "!!!"})
    assert empty.status_code == 400
    assert "Write a phrase of at least one word." in empty.content.decode()


def test_it_checks_access_to_the_phrase_list(cast, client_as):
    url = reverse("messaging:crisis_phrases")
    assert client_as(cast.program_admin).get(url).status_code == 200
    for persona in (
        "assigned_clinician",
        "on_call",
        "front_desk",
        "patient",
        "other_org_clinician",
    ):
        assert client_as(getattr(cast, persona)).get(url).status_code == 404, persona
    other_program = cast.other_org_clinician.staff_member.programs.get()
    response = client_as(cast.clinical_lead).post(
        url, {"program": other_program.pk, "phrase": "x y"}
    )
    assert response.status_code == 404
    assert CrisisPhrase.objects.count() == 0
