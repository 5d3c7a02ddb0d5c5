"""A program admin's staff: invitation by e-mail, role, deactivation and the handover list.
Right and wrong people, bad input (an e-mail in use keeps what was typed)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tether.accounts.models import Invite, StaffEnrolmentLink, User
from tether.organizations.models import OnCallShift, StaffMember
from tether.privacy.models import AuditEvent
from tether.testing.cast import PASSWORD, make_staff
from tether.testing.queries import page_queries

pytestmark = pytest.mark.django_db
LIST = "program:staff"
DETAIL = "program:staff_detail"
NOT_ADMINS = (
    "assigned_clinician",
    "unassigned_clinician",
    "clinical_lead",
    "on_call",
    "front_desk",
    "privacy_officer",
    "other_org_clinician",
    "patient",
    "parent",
)


def _invite(cast: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "first_name": "Nia",
        "last_name": "Newhire",
        "email": "nia.newhire@example.org",
        "role": "clinician",
        "title": "LCSW",
        "programs": [cast.iop.pk],
    }
    data.update(overrides)
    return data


def test_the_admin_invites_a_clinician_who_sets_a_password_from_the_email(
    cast: Any, client_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_as(cast.program_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(LIST), _invite(cast))
    assert response.status_code == 302
    staff = StaffMember.objects.get(user__email="nia.newhire@example.org")
    assert staff.role == "clinician"
    assert list(staff.programs.all()) == [cast.iop]
    assert not staff.user.has_usable_password()
    assert AuditEvent.objects.filter(
        object_type="organizations.staffmember", object_id=str(staff.pk), action="create"
    ).exists()
    (message,) = mail.outbox
    assert message.to == ["nia.newhire@example.org"]
    links = re.findall(r"https?://\S+", str(message.body))
    assert len(links) == 2
    # The admin's page never shows the links.
    page = client.get(response["Location"]).content.decode()
    assert links[0] not in page and links[1] not in page
    # The new colleague opens the first link and chooses a password.
    newcomer = Client()
    path = links[0].split("://", 1)[1].split("/", 1)[1]
    choose = newcomer.post(
        "/" + path, {"new_password1": PASSWORD + "!", "new_password2": PASSWORD + "!"}
    )
    assert choose.status_code == 302
    staff.user.refresh_from_db()
    assert staff.user.has_usable_password()
    # The second link lets this session set up the authenticator app.
    enrol_path = "/" + links[1].split("://", 1)[1].split("/", 1)[1]
    assert newcomer.get(enrol_path).status_code == 302


def test_an_email_already_in_use_is_refused_and_what_was_typed_is_kept(
    cast: Any, client_as: Any
) -> None:
    response = client_as(cast.program_admin).post(
        reverse(LIST), _invite(cast, email="DANA.CLINICIAN@example.org", first_name="Nia")
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "already belongs to an account" in page
    assert 'value="Nia"' in page and 'value="LCSW"' in page
    assert not User.objects.filter(first_name="Nia").exists()
    assert not mail.outbox


def test_a_program_the_admin_does_not_work_in_is_refused(cast: Any, client_as: Any) -> None:
    from tether.organizations.models import Program

    elsewhere = Program.objects.get(name="Elsewhere IOP")
    response = client_as(cast.program_admin).post(
        reverse(LIST), _invite(cast, programs=[elsewhere.pk])
    )
    assert response.status_code == 400
    assert not User.objects.filter(first_name="Nia").exists()


@pytest.mark.parametrize("persona", NOT_ADMINS)
def test_nobody_but_a_program_admin_invites(cast: Any, client_as: Any, persona: str) -> None:
    client = client_as(getattr(cast, persona))
    assert client.get(reverse(LIST)).status_code == 404
    assert client.post(reverse(LIST), _invite(cast)).status_code == 404
    target = cast.unassigned_clinician.staff_member
    url = reverse(DETAIL, args=[target.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "role", "role": "program_admin"}).status_code == 404
    assert client.post(url, {"action": "deactivate", "confirm": "on"}).status_code == 404
    target.refresh_from_db()
    assert (target.role, target.is_active) == ("clinician", True)
    assert not User.objects.filter(first_name="Nia").exists()


def test_another_organizations_staff_is_not_found(cast: Any, client_as: Any) -> None:
    stranger = cast.other_org_clinician.staff_member
    client = client_as(cast.program_admin)
    assert client.get(reverse(DETAIL, args=[stranger.pk])).status_code == 404
    response = client.post(
        reverse(DETAIL, args=[stranger.pk]), {"action": "deactivate", "confirm": "on"}
    )
    assert response.status_code == 404
    stranger.refresh_from_db()
    assert stranger.is_active


def test_the_admin_changes_a_role_and_it_is_audited(cast: Any, client_as: Any) -> None:
    target = cast.unassigned_clinician.staff_member
    response = client_as(cast.program_admin).post(
        reverse(DETAIL, args=[target.pk]),
        {"action": "role", "role": "clinical_lead", "title": "PhD", "programs": [cast.iop.pk]},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.role, target.title) == ("clinical_lead", "PhD")
    assert list(target.programs.all()) == [cast.iop]
    assert AuditEvent.objects.filter(
        object_type="organizations.staffmember", object_id=str(target.pk), action="update"
    ).exists()


def test_an_admin_cannot_change_or_deactivate_themself(cast: Any, client_as: Any) -> None:
    me = cast.program_admin.staff_member
    client = client_as(cast.program_admin)
    page = client.get(reverse(DETAIL, args=[me.pk])).content.decode()
    assert "Another program admin" in page
    assert "Deactivate" not in page
    url = reverse(DETAIL, args=[me.pk])
    assert client.post(url, {"action": "role", "role": "clinician"}).status_code == 404
    assert client.post(url, {"action": "deactivate", "confirm": "on"}).status_code == 404
    me.refresh_from_db()
    assert (me.role, me.is_active) == ("program_admin", True)


def test_deactivation_signs_them_out_and_lists_their_caseload(cast: Any, client_as: Any) -> None:
    target = cast.assigned_clinician.staff_member
    their_client = client_as(cast.assigned_clinician)
    assert their_client.get(reverse("staff:dashboard")).status_code == 200
    now = timezone.now()
    OnCallShift.objects.create(
        organization=cast.organization,
        program=cast.iop,
        staff_member=target,
        starts_at=now + dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=2),
        created_by=cast.program_admin,
    )
    admin = Client()
    from tether.testing.cast import sign_in

    sign_in(admin, cast.program_admin)
    url = reverse(DETAIL, args=[target.pk])
    refused = admin.post(url, {"action": "deactivate"})
    assert refused.status_code == 400
    assert "Tick the box" in refused.content.decode()
    response = admin.post(url, {"action": "deactivate", "confirm": "on"})
    assert response.status_code == 302
    target.refresh_from_db()
    target.user.refresh_from_db()
    assert not target.is_active and not target.user.is_active
    assert not OnCallShift.objects.filter(staff_member=target).exists()
    # Their session ended: the staff area no longer opens for them.
    assert their_client.get(reverse("staff:dashboard")).status_code in (302, 404)
    # The caseload is there to hand over, Maria's name through the gate, audited.
    page = admin.get(url).content.decode()
    assert "Maria" in page and "Deactivated" in page
    assert AuditEvent.objects.filter(
        patient=cast.patient.patient, actor=cast.program_admin, action="view"
    ).exists()
    # A second deactivation says so and changes nothing.
    again = admin.post(url, {"action": "deactivate", "confirm": "on"})
    assert again.status_code == 400


def test_deactivation_stops_unused_links(cast: Any, client_as: Any) -> None:
    client = client_as(cast.program_admin)
    client.post(reverse(LIST), _invite(cast))
    staff = StaffMember.objects.get(user__email="nia.newhire@example.org")
    client.post(reverse(DETAIL, args=[staff.pk]), {"action": "deactivate", "confirm": "on"})
    assert not Invite.objects.filter(user=staff.user, revoked_at__isnull=True).exists()
    assert not StaffEnrolmentLink.objects.filter(user=staff.user, revoked_at__isnull=True).exists()


def test_the_invitation_is_sent_again_and_the_old_links_stop(
    cast: Any, client_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_as(cast.program_admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse(LIST), _invite(cast))
    staff = StaffMember.objects.get(user__email="nia.newhire@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(DETAIL, args=[staff.pk]), {"action": "invite_again"})
    assert response.status_code == 302
    assert len(mail.outbox) == 2
    assert Invite.objects.filter(user=staff.user, revoked_at__isnull=True).count() == 1
    # Someone who already chose a password is not invited again.
    dana = cast.assigned_clinician.staff_member
    refused = client.post(reverse(DETAIL, args=[dana.pk]), {"action": "invite_again"})
    assert refused.status_code == 400


def test_the_staff_list_does_not_grow_in_queries(cast: Any, client_as: Any) -> None:
    client = client_as(cast.program_admin)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(LIST)).status_code == 200
        return len(page_queries(captured.captured_queries))

    small = count()
    for n in range(10):
        make_staff(cast.organization, f"extra{n}", StaffMember.Role.CLINICIAN, [cast.iop])
    assert count() == small
