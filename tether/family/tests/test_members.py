"""Family members: the care team invites (link, QR, e-mail) and removes; the adult
patient ends any access they granted; invitations expire; every step audited."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tether.accounts.models import Invite, User
from tether.patients.models import Proxy
from tether.privacy.models import AuditEvent

pytestmark = pytest.mark.django_db


def _url(patient_user: Any) -> str:
    return reverse("family:staff_members", args=[patient_user.patient.pk])


def _form(**overrides: Any) -> dict[str, Any]:
    data = {
        "action": "invite",
        "first_name": "Rosa",
        "last_name": "Garcia",
        "relationship": "spouse",
        "email": "rosa@example.net",
        "send_email": "on",
        "scopes": ["attendance", "appointments"],
        "patient_agreed": "on",
    }
    data.update(overrides)
    return data


def test_the_care_team_invites_a_family_member_by_email_and_qr(
    cast: Any, client_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(cast.assigned_clinician).post(_url(cast.patient), _form())
    assert response.status_code == 200
    body = response.content.decode()
    assert "QR code for the invitation link" in body and "/accounts/invite/" in body
    proxy = Proxy.objects.get(patient=cast.patient.patient, user__email="rosa@example.net")
    assert proxy.scopes == {"attendance", "appointments"}
    assert proxy.user.kind == "proxy" and not proxy.user.has_usable_password()
    assert proxy.assent_recorded_at is None  # an adult patient: they set it themself
    assert len(mail.outbox) == 1 and "/accounts/invite/" in mail.outbox[0].body
    assert Invite.objects.get(user=proxy.user).expires_at > timezone.now()
    assert AuditEvent.objects.filter(
        object_type="patients.proxy", action="create", actor=cast.assigned_clinician
    ).exists()


def test_a_teens_invitation_records_the_assent(cast: Any, client_as: Any) -> None:
    client_as(cast.assigned_clinician).post(_url(cast.adolescent), _form(send_email=""))
    proxy = Proxy.objects.get(user__email="rosa@example.net")
    assert proxy.assent_recorded_at is not None


def test_without_the_patients_agreement_nothing_is_made_and_the_form_is_kept(
    cast: Any, client_as: Any
) -> None:
    response = client_as(cast.assigned_clinician).post(_url(cast.patient), _form(patient_agreed=""))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Ask the patient first" in body
    assert 'value="Rosa"' in body
    assert not User.objects.filter(email="rosa@example.net").exists()


def test_an_email_already_in_use_is_refused(cast: Any, client_as: Any) -> None:
    response = client_as(cast.assigned_clinician).post(
        _url(cast.patient), _form(email="DANA.clinician@example.org")
    )
    assert response.status_code == 400
    assert "already belongs to an account" in response.content.decode()
    assert not Proxy.objects.filter(patient=cast.patient.patient).exists()


def test_the_invitation_works_for_the_family_member_until_it_expires(
    cast: Any, client_as: Any, client: Any
) -> None:
    body = (
        client_as(cast.assigned_clinician)
        .post(_url(cast.patient), _form(send_email=""))
        .content.decode()
    )
    path = re.search(r"(/accounts/invite/[^<\s]+/)", body)
    assert path is not None
    client.logout()
    assert client.get(path.group(1)).status_code == 200
    Invite.objects.filter(user__email="rosa@example.net").update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    response = client.get(path.group(1))
    assert response.status_code == 404
    assert "This invite link no longer works" in response.content.decode()


@pytest.mark.parametrize(
    "persona",
    (
        "unassigned_clinician",
        "clinical_lead",
        "on_call",
        "front_desk",
        "program_admin",
        "privacy_officer",
        "other_org_clinician",
        "patient",
        "parent",
    ),
)
def test_it_checks_access_and_the_wrong_people_cannot_invite_or_remove(
    cast: Any, client_as: Any, persona: str
) -> None:
    client = client_as(getattr(cast, persona))
    url = _url(cast.adolescent)
    parent = Proxy.objects.get(user=cast.parent)
    assert client.get(url).status_code == 404
    assert client.post(url, _form()).status_code == 404
    assert client.post(url, {"action": "end", "proxy": parent.pk}).status_code == 404
    assert Proxy.objects.get(pk=parent.pk).is_active
    assert not User.objects.filter(email="rosa@example.net").exists()


def test_the_care_team_removes_a_family_member_and_the_parent_sees_nothing(
    cast: Any, client_as: Any
) -> None:
    parent = Proxy.objects.get(user=cast.parent)
    response = client_as(cast.assigned_clinician).post(
        _url(cast.adolescent), {"action": "end", "proxy": parent.pk}
    )
    assert response.status_code == 302
    body = client_as(cast.parent).get(reverse("portal:family_home")).content.decode()
    assert "No one has shared their information with you yet." in body
    assert AuditEvent.objects.filter(
        object_type="patients.proxy", action="update", patient=cast.adolescent.patient
    ).exists()


def test_an_adult_patient_ends_a_family_members_access(cast: Any, client_as: Any) -> None:
    client_as(cast.assigned_clinician).post(_url(cast.patient), _form(send_email=""))
    proxy = Proxy.objects.get(user__email="rosa@example.net")
    client = client_as(cast.patient)
    assert (
        "End all access for Rosa Garcia"
        in client.get(reverse("consent:patient_family")).content.decode()
    )
    response = client.post(reverse("family:patient_end"), {"proxy": proxy.pk})
    assert response.status_code == 302
    proxy.refresh_from_db()
    assert not proxy.is_active
    assert Invite.objects.get(user=proxy.user).revoked_at is not None
    event = AuditEvent.objects.get(object_type="patients.proxy", action="update")
    assert (event.actor_id, event.purpose) == (cast.patient.pk, "PATRQT")


@pytest.mark.parametrize("persona", ("other_patient", "adolescent", "parent", "assigned_clinician"))
def test_nobody_else_ends_a_patients_family_access(cast: Any, client_as: Any, persona: str) -> None:
    parent = Proxy.objects.get(user=cast.parent)
    response = client_as(getattr(cast, persona)).post(
        reverse("family:patient_end"), {"proxy": parent.pk}
    )
    assert response.status_code == 404
    assert Proxy.objects.get(pk=parent.pk).is_active
