"""Issue 13, finding 7: a staff member's authenticator app is enrolled only through a
one-time set-up link from a program admin, never by whoever first signs in with the
password."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.models import StaffEnrolmentLink
from tether.accounts.services import enrolment_link_create
from tether.accounts.tests.helpers import current_code, sign_in_with_password
from tether.privacy.models import AuditEvent

SETUP = reverse("accounts:mfa_setup")


@pytest.fixture
def newcomer(cast):
    """Dana has a password but no authenticator app yet."""
    TOTPDevice.objects.filter(user=cast.assigned_clinician).delete()
    return cast.assigned_clinician


def _link_path(token: str) -> str:
    return reverse("accounts:mfa_enrol", args=[token])


def _enrol(client, user) -> bool:
    """Try to set up an app with what the setup page shows; True if it was turned on."""
    page = client.get(SETUP)
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        return False
    client.post(SETUP, {"code": current_code(device)})
    del page
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def test_a_password_alone_cannot_enrol_an_app(cast, client, newcomer):
    sign_in_with_password(client, newcomer.username)
    page = client.get(SETUP)
    assert page.status_code == 200
    assert "set-up link" in page.content.decode()
    assert not _enrol(client, newcomer)
    assert not TOTPDevice.objects.filter(user=newcomer).exists()


def test_the_set_up_link_lets_them_enrol_once(cast, client, newcomer):
    issued = enrolment_link_create(user=newcomer, created_by=cast.program_admin)
    # Opened signed out: sign in with the password first, then back to the link.
    response = client.get(_link_path(issued.token))
    assert response["Location"].startswith(reverse("accounts:login"))
    sign_in_with_password(client, newcomer.username)
    response = client.get(_link_path(issued.token))
    assert response["Location"].startswith(SETUP)
    assert _enrol(client, newcomer)
    assert StaffEnrolmentLink.objects.get(pk=issued.link.pk).used_at is not None

    # Used: the link does not work again (for a second phone, say).
    TOTPDevice.objects.filter(user=newcomer).delete()
    client.logout()
    sign_in_with_password(client, newcomer.username)
    assert client.get(_link_path(issued.token)).status_code == 404
    assert not _enrol(client, newcomer)


def test_an_expired_link_does_not_work(cast, client, newcomer):
    issued = enrolment_link_create(user=newcomer, created_by=cast.program_admin)
    StaffEnrolmentLink.objects.filter(pk=issued.link.pk).update(expires_at=timezone.now())
    sign_in_with_password(client, newcomer.username)
    assert client.get(_link_path(issued.token)).status_code == 404
    assert not _enrol(client, newcomer)


def test_someone_elses_link_does_not_work(cast, client, newcomer):
    TOTPDevice.objects.filter(user=cast.unassigned_clinician).delete()
    issued = enrolment_link_create(user=newcomer, created_by=cast.program_admin)
    sign_in_with_password(client, cast.unassigned_clinician.username)
    assert client.get(_link_path(issued.token)).status_code == 404
    assert not _enrol(client, cast.unassigned_clinician)


def test_a_program_admin_makes_a_link_for_a_colleague(cast, client_as, client, newcomer):
    url = reverse("accounts:staff_enrolment_link", args=[newcomer.staff_member.pk])
    response = client_as(cast.program_admin).post(url)
    assert response.status_code == 200
    match = re.search(
        r'<p class="invite-link">[^<]*(/accounts/two-step/enrol/[^<]+/)</p>',
        response.content.decode(),
    )
    assert match, response.content.decode()
    link = StaffEnrolmentLink.objects.get(user=newcomer)
    assert AuditEvent.objects.filter(
        actor=cast.program_admin, object_type="accounts.staffenrolmentlink", object_id=str(link.pk)
    ).exists()

    client.logout()
    sign_in_with_password(client, newcomer.username)
    client.get(match.group(1))
    assert _enrol(client, newcomer)


@pytest.mark.parametrize(
    "persona",
    [
        "front_desk",
        "assigned_clinician",
        "unassigned_clinician",
        "clinical_lead",
        "privacy_officer",
        "other_org_clinician",
        "patient",
        "other_patient",
        "parent",
    ],
)
def test_the_wrong_people_cannot_make_a_link(cast, client_as, persona):
    url = reverse("accounts:staff_enrolment_link", args=[cast.on_call.staff_member.pk])
    response = client_as(getattr(cast, persona)).post(url)
    assert response.status_code == 404
    assert not StaffEnrolmentLink.objects.exists()


def test_a_program_admin_cannot_make_one_for_themself(cast, client_as):
    url = reverse("accounts:staff_enrolment_link", args=[cast.program_admin.staff_member.pk])
    assert client_as(cast.program_admin).post(url).status_code == 404
    assert not StaffEnrolmentLink.objects.exists()


def test_signed_out_people_cannot_make_a_link(cast, client):
    url = reverse("accounts:staff_enrolment_link", args=[cast.on_call.staff_member.pk])
    response = client.post(url)
    assert response.status_code == 302
    assert not StaffEnrolmentLink.objects.exists()


def test_patients_still_turn_it_on_themselves(cast, client_as):
    client = client_as(cast.patient)
    assert _enrol(client, cast.patient)


def test_the_first_admin_gets_a_link_from_the_command_line(cast, client, newcomer):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("staff_enrolment_link", newcomer.username, stdout=out, stderr=StringIO())
    path = "/" + out.getvalue().strip().split("/", 3)[3]
    sign_in_with_password(client, newcomer.username)
    client.get(path)
    assert _enrol(client, newcomer)
