"""A program admin resets a colleague's two-step sign-in after a lost or new phone."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.models import TwoStepReset
from tether.accounts.tests.helpers import sign_in_with_password
from tether.privacy.models import AuditEvent
from tether.testing.cast import sign_in

LIST = reverse("accounts:staff_two_step")
GOOD = {"reason": "lost_phone", "note": "", "confirm": "on"}


def _reset_url(user) -> str:
    return reverse("accounts:staff_two_step_reset", args=[user.staff_member.pk])


def test_it_lists_the_organizations_staff_with_their_two_step_state(cast, client_as):
    TOTPDevice.objects.filter(user=cast.front_desk).delete()
    body = client_as(cast.program_admin).get(LIST).content.decode()
    assert "Clinician" in body and "Front desk" in body
    assert "Not set up yet" in body
    assert _reset_url(cast.other_org_clinician) not in body
    assert _reset_url(cast.assigned_clinician) in body
    assert _reset_url(cast.program_admin) not in body  # nobody resets their own


def test_the_list_keeps_a_constant_number_of_queries(
    cast, client_as, django_assert_max_num_queries
):
    client = client_as(cast.program_admin)
    with django_assert_max_num_queries(30) as small:
        client.get(LIST)
    from tether.organizations.models import StaffMember
    from tether.testing.cast import make_staff

    for number in range(5):
        make_staff(cast.organization, f"extra{number}", StaffMember.Role.CLINICIAN, [cast.iop])
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(LIST)


def test_it_asks_to_confirm_before_resetting(cast, client_as):
    page = client_as(cast.program_admin).get(_reset_url(cast.assigned_clinician))
    assert page.status_code == 200
    assert "Why are you resetting it?" in page.content.decode()
    assert TOTPDevice.objects.filter(user=cast.assigned_clinician).exists()


def test_it_resets_signs_out_and_records_it(cast, client_as):
    colleague = sign_in(Client(), cast.assigned_clinician)  # signed in elsewhere
    assert colleague.get(reverse("staff:dashboard")).status_code == 200

    response = client_as(cast.program_admin).post(_reset_url(cast.assigned_clinician), GOOD)
    assert response.status_code == 302
    assert response["Location"] == LIST
    assert not TOTPDevice.objects.filter(user=cast.assigned_clinician).exists()

    reset = TwoStepReset.objects.get()
    assert reset.user == cast.assigned_clinician
    assert reset.reset_by == cast.program_admin
    assert reset.reason == "lost_phone"
    assert reset.devices_removed == 1
    event = AuditEvent.objects.get(object_type="accounts.twostepreset")
    assert event.actor_id == cast.program_admin.pk
    assert event.object_id == str(reset.pk)
    assert event.patient_id is None
    assert event.outcome == "allowed"

    # Their other session is over: back to sign-in.
    after = colleague.get(reverse("staff:dashboard"))
    assert after.status_code == 302
    assert after["Location"].startswith(reverse("accounts:login"))


def test_the_colleague_sets_up_an_app_at_their_next_sign_in(cast, client_as, client):
    client_as(cast.program_admin).post(_reset_url(cast.assigned_clinician), GOOD)
    client.logout()
    response = sign_in_with_password(client, cast.assigned_clinician.username)
    assert response.status_code == 302
    follow = client.get(reverse("staff:dashboard"))
    assert follow["Location"] == reverse("accounts:mfa_setup")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "", "confirm": "on"}, "Choose a reason."),
        ({"reason": "other", "note": " ", "confirm": "on"}, "Say briefly why"),
        ({"reason": "lost_phone", "note": "left it on the bus"}, "Tick the box"),
    ],
)
def test_it_changes_nothing_on_bad_input(cast, client_as, data, message):
    response = client_as(cast.program_admin).post(_reset_url(cast.assigned_clinician), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    if data.get("note", "").strip():
        assert data["note"] in body  # what they typed is kept
    assert TOTPDevice.objects.filter(user=cast.assigned_clinician).exists()
    assert not TwoStepReset.objects.exists()


def test_it_keeps_the_reason_other_with_details(cast, client_as):
    data = {"reason": "other", "note": "phone broke", "confirm": "on"}
    client_as(cast.program_admin).post(_reset_url(cast.assigned_clinician), data)
    assert TwoStepReset.objects.get().note == "phone broke"


def test_nobody_resets_their_own(cast, client_as):
    client = client_as(cast.program_admin)
    assert client.get(_reset_url(cast.program_admin)).status_code == 404
    assert client.post(_reset_url(cast.program_admin), GOOD).status_code == 404
    assert TOTPDevice.objects.filter(user=cast.program_admin).exists()


def test_another_organizations_staff_is_not_found(cast, client_as):
    client = client_as(cast.program_admin)
    assert client.get(_reset_url(cast.other_org_clinician)).status_code == 404
    assert client.post(_reset_url(cast.other_org_clinician), GOOD).status_code == 404
    assert TOTPDevice.objects.filter(user=cast.other_org_clinician).exists()


@pytest.mark.parametrize(
    "persona", ["clinical_lead", "front_desk", "privacy_officer", "on_call", "other_org_clinician"]
)
def test_other_roles_cannot_reset(cast, client_as, persona):
    client = client_as(getattr(cast, persona))
    assert client.post(_reset_url(cast.assigned_clinician), GOOD).status_code == 404
    assert TOTPDevice.objects.filter(user=cast.assigned_clinician).exists()


def test_an_unknown_staff_id_is_not_found(cast, client_as):
    url = reverse("accounts:staff_two_step_reset", args=[999999])
    assert client_as(cast.program_admin).get(url).status_code == 404


def test_the_menu_offers_it_to_program_admins_only(cast, client_as):
    assert LIST in client_as(cast.program_admin).get(reverse("staff:dashboard")).content.decode()
    assert (
        LIST not in client_as(cast.clinical_lead).get(reverse("staff:dashboard")).content.decode()
    )


def test_the_colleague_and_the_privacy_officer_are_told(
    cast, client_as, mailoutbox, django_capture_on_commit_callbacks
):
    """A change to how someone signs in is never silent: the person reset and the
    privacy officers get a notification and a PHI-free email; the admin does not."""
    from tether.notifications.models import Notification

    with django_capture_on_commit_callbacks(execute=True):
        client_as(cast.program_admin).post(_reset_url(cast.assigned_clinician), GOOD)
    told = set(
        Notification.objects.filter(kind="two_step_reset").values_list("recipient", flat=True)
    )
    assert told == {cast.assigned_clinician.pk, cast.privacy_officer.pk}
    assert all(m.subject == "Tether: a two-step sign-in was reset" for m in mailoutbox)
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [cast.assigned_clinician.email, cast.privacy_officer.email]
    )
    officer_page = client_as(cast.privacy_officer).get(reverse("notifications:list"))
    assert "reset the two-step sign-in of a staff account" in officer_page.content.decode()
