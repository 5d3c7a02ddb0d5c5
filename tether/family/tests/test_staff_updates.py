from __future__ import annotations

from typing import Any

from django.urls import reverse

from tether.family.models import FamilyUpdate
from tether.patients.models import Proxy
from tether.privacy.models import AuditEvent
from tether.testing.family import grant, make_part2

S = Proxy.Scope
TEXT = "Jordan came to every group this week and is trying the new evening routine."


def _url(cast: Any) -> str:
    return reverse("family:staff_updates", args=[cast.adolescent.patient.pk])


def test_it_sends_an_update_the_family_and_the_patient_can_read(cast, client_as):
    grant(cast, S.FAMILY_UPDATES)
    client = client_as(cast.assigned_clinician)
    page = client.get(_url(cast)).content.decode()
    assert "No clinical details" in page
    assert "1 family member can read these updates." in page
    response = client.post(_url(cast), {"body": TEXT})
    assert response.status_code == 302
    update = FamilyUpdate.objects.get()
    assert (update.record_category, update.author) == ("general", cast.assigned_clinician)
    event = AuditEvent.objects.filter(object_type__contains="familyupdate").latest("id")
    assert (event.action, event.category, event.outcome) == ("create", "general", "allowed")
    assert TEXT not in str(vars(event))  # ids only in the trail
    assert TEXT in client_as(cast.parent).get(reverse("portal:family_home")).content.decode()
    assert (
        TEXT in client_as(cast.adolescent).get(reverse("family:patient_updates")).content.decode()
    )


def test_it_keeps_what_was_typed_when_the_update_is_too_long(cast, client_as):
    long_text = "x" * 1501
    response = client_as(cast.assigned_clinician).post(_url(cast), {"body": long_text})
    assert response.status_code == 400
    body = response.content.decode()
    assert "This is too long to send" in body
    assert long_text in body
    assert not FamilyUpdate.objects.exists()


def test_it_refuses_updates_from_a_substance_use_program(cast, client_as):
    make_part2(cast.adolescent_iop)
    client = client_as(cast.assigned_clinician)
    assert "cannot be sent here" in client.get(_url(cast)).content.decode()
    response = client.post(_url(cast), {"body": TEXT})
    assert response.status_code == 400
    assert "cannot be sent here" in response.content.decode()
    assert TEXT in response.content.decode()  # nothing lost of what was typed
    assert not FamilyUpdate.objects.exists()


def test_it_lets_only_the_care_team_write(cast, client_as):
    for persona in ("clinical_lead", "on_call"):
        client = client_as(getattr(cast, persona))
        assert client.get(_url(cast)).status_code == 200
        assert client.post(_url(cast), {"body": TEXT}).status_code == 404, persona
    assert not FamilyUpdate.objects.exists()


def test_it_checks_access(cast, client_as):
    for persona in (
        "parent",
        "adolescent",
        "unassigned_clinician",
        "front_desk",
        "other_org_clinician",
    ):
        assert client_as(getattr(cast, persona)).get(_url(cast)).status_code == 404, persona


def test_the_patient_finds_what_was_sent_from_their_family_sharing_page(cast, client_as):
    client = client_as(cast.patient)
    sharing = client.get(reverse("consent:patient_family")).content.decode()
    assert reverse("family:patient_updates") in sharing
    page = client.get(reverse("family:patient_updates")).content.decode()
    assert "Nothing has been sent to your family." in page
