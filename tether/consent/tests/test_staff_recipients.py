"""Issue 13, finding 7: only the roles the policy names add recipients outside the program
(clinicians and clinical leads: the people who send care-coordination updates)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tether.consent.models import Recipient
from tether.privacy.models import AuditEvent

URL = reverse("consent:staff_recipients")
NEW = {"name": "Dr. Haddad", "recipient_organization": "County", "kind": "psychiatrist"}


@pytest.mark.parametrize("persona", ["assigned_clinician", "unassigned_clinician", "clinical_lead"])
def test_the_named_roles_add_a_recipient(cast, client_as, persona):
    response = client_as(getattr(cast, persona)).post(URL, NEW)
    assert response.status_code == 302
    recipient = Recipient.objects.get()
    assert recipient.organization == cast.organization
    assert AuditEvent.objects.filter(
        actor=getattr(cast, persona),
        action="create",
        object_type="consent.recipient",
        object_id=str(recipient.pk),
    ).exists()


@pytest.mark.parametrize(
    "persona",
    [
        "front_desk",
        "privacy_officer",
        "program_admin",
        "on_call",
        "patient",
        "other_patient",
        "parent",
    ],
)
def test_other_people_cannot_add_one(cast, client_as, persona):
    response = client_as(getattr(cast, persona)).post(URL, NEW)
    assert response.status_code == 404
    assert not Recipient.objects.exists()


def test_a_refused_attempt_is_recorded(cast, client_as):
    client_as(cast.front_desk).post(URL, NEW)
    assert AuditEvent.objects.filter(
        actor=cast.front_desk, action="create", outcome=AuditEvent.Outcome.DENIED
    ).exists()


def test_another_organizations_clinician_adds_only_to_their_own(cast, client_as):
    client_as(cast.other_org_clinician).post(URL, NEW)
    assert not Recipient.objects.filter(organization=cast.organization).exists()
    assert Recipient.objects.get().organization == cast.other_organization


def test_signed_out_people_are_sent_to_sign_in(cast, client):
    response = client.post(URL, NEW)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert not Recipient.objects.exists()
