"""Issue 13, finding 1: a new invite link or reset code must never hand over an account
that is in use without the patient's own confirmation (a one-time code to their verified
email, or their identity checked in person and recorded), and the patient is told."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tether.accounts.models import AccountNotice, Invite, ResetCode
from tether.accounts.services import invite_create
from tether.accounts.tests.helpers import sign_in_with_password
from tether.privacy.models import AuditEvent
from tether.testing.cast import PASSWORD

NEW_PASSWORD = "a quiet walk by the river"


def _invite_url(patient) -> str:
    return reverse("staff:invite_create", args=[patient.pk])


def _reset_url(patient) -> str:
    return reverse("staff:reset_code_issue", args=[patient.pk])


def _code(body: str) -> str | None:
    match = re.search(r'<p class="code-display">(\d{4}) (\d{4})</p>', body)
    return match.group(1) + match.group(2) if match else None


def _redeem(client, code: str, *, confirmation_code: str = ""):
    return client.post(
        reverse("accounts:reset_code"),
        {
            "username": "maria.g",
            "code": code,
            "confirmation_code": confirmation_code,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )


@pytest.fixture
def verified_email(cast):
    cast.patient.email = "maria@example.org"
    cast.patient.email_verified_at = timezone.now()
    cast.patient.save(update_fields=["email", "email_verified_at"])
    return cast.patient.email


# --- The attack: an invite for a registered patient -------------------------------------


def test_front_desk_cannot_take_over_a_registered_patient_with_an_invite(cast, client_as, client):
    """Maria has a password: a new invite must not let anyone set another one."""
    response = client_as(cast.front_desk).post(_invite_url(cast.patient.patient))
    body = response.content.decode()
    link = re.search(r'<p class="invite-link">([^<]+)</p>', body)
    client.post(reverse("accounts:logout"))
    if link is not None:
        path = "/" + link.group(1).split("/", 3)[3]
        client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    cast.patient.refresh_from_db()
    assert cast.patient.check_password(PASSWORD)
    assert not cast.patient.check_password(NEW_PASSWORD)
    assert not Invite.objects.filter(user=cast.patient).exists()


def test_an_invite_made_before_the_account_was_in_use_cannot_hand_it_over(cast, client):
    """Accepting an invite checks too: an older invite (or one made by any path) for an
    account that has a password now does not set a new one."""
    cast.patient.set_unusable_password()
    cast.patient.save(update_fields=["password"])
    issued = invite_create(user=cast.patient, created_by=cast.front_desk)
    cast.patient.set_password(PASSWORD)  # she signed up meanwhile (another invite, say)
    cast.patient.save(update_fields=["password"])
    path = reverse("accounts:invite", args=[issued.token])

    assert client.get(path).status_code == 404
    client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    cast.patient.refresh_from_db()
    assert cast.patient.check_password(PASSWORD)


def test_the_invite_page_says_to_use_a_reset_code_instead(cast, client_as):
    response = client_as(cast.front_desk).post(_invite_url(cast.patient.patient), follow=True)
    assert "already has an account" in response.content.decode()


# --- The attack: a reset code without the patient's confirmation ------------------------


def test_front_desk_cannot_get_a_reset_code_without_confirming_who_the_patient_is(
    cast, client_as, client
):
    response = client_as(cast.front_desk).post(_reset_url(cast.patient.patient))
    assert response.status_code == 200
    assert _code(response.content.decode()) is None
    assert not ResetCode.objects.exists()
    assert "Check who the patient is" in response.content.decode()


def test_in_person_needs_the_kind_of_document_checked(cast, client_as):
    response = client_as(cast.front_desk).post(
        _reset_url(cast.patient.patient), {"confirmation": "in_person", "identity_document": ""}
    )
    assert _code(response.content.decode()) is None
    assert not ResetCode.objects.exists()


def test_a_code_by_email_needs_a_verified_email(cast, client_as):
    cast.patient.email = "maria@example.org"  # on file, never proved
    cast.patient.save(update_fields=["email"])
    response = client_as(cast.front_desk).post(
        _reset_url(cast.patient.patient), {"confirmation": "one_time_code", "channel": "email"}
    )
    assert _code(response.content.decode()) is None
    assert not ResetCode.objects.exists()


# --- The legitimate paths ---------------------------------------------------------------


def test_in_person_with_identity_checked_works_and_is_recorded(cast, client_as, client):
    response = client_as(cast.front_desk).post(
        _reset_url(cast.patient.patient),
        {"confirmation": "in_person", "identity_document": "drivers_license"},
    )
    code = _code(response.content.decode())
    assert code is not None
    reset_code = ResetCode.objects.get(user=cast.patient)
    assert reset_code.confirmation == ResetCode.Confirmation.IN_PERSON
    assert reset_code.identity_document == "drivers_license"
    assert reset_code.created_by == cast.front_desk
    assert reset_code.confirmed_at is not None
    event = AuditEvent.objects.get(
        actor=cast.front_desk,
        patient=cast.patient.patient,
        object_type="accounts.resetcode",
        object_id=str(reset_code.pk),
    )
    assert event.action == "update" and event.outcome == AuditEvent.Outcome.ALLOWED

    client.post(reverse("accounts:logout"))
    assert _redeem(client, code).status_code == 302
    cast.patient.refresh_from_db()
    assert cast.patient.check_password(NEW_PASSWORD)


def test_a_code_to_the_verified_email_works_only_with_that_code(
    cast, client_as, client, verified_email, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(cast.front_desk).post(
            _reset_url(cast.patient.patient),
            {"confirmation": "one_time_code", "channel": "email"},
        )
    body = response.content.decode()
    code = _code(body)
    assert code is not None
    # The front desk never sees the emailed code; the patient gets it by email.
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [verified_email]
    emailed = re.search(r"\b(\d{6})\b", str(mail.outbox[0].body))
    assert emailed is not None
    assert emailed.group(1) not in body

    client.post(reverse("accounts:logout"))
    assert _redeem(client, code).status_code == 200  # the emailed code is missing
    assert _redeem(client, code, confirmation_code="000000").status_code == 200
    cast.patient.refresh_from_db()
    assert cast.patient.check_password(PASSWORD)

    assert _redeem(client, code, confirmation_code=emailed.group(1)).status_code == 302
    cast.patient.refresh_from_db()
    assert cast.patient.check_password(NEW_PASSWORD)


def test_unregistered_patients_still_get_invites(cast, client_as, client):
    cast.patient.set_unusable_password()
    cast.patient.save(update_fields=["password"])
    body = client_as(cast.front_desk).post(_invite_url(cast.patient.patient)).content.decode()
    link = re.search(r'<p class="invite-link">([^<]+)</p>', body)
    assert link is not None
    client.post(reverse("accounts:logout"))
    path = "/" + link.group(1).split("/", 3)[3]
    response = client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    cast.patient.refresh_from_db()
    assert cast.patient.check_password(NEW_PASSWORD)
    assert not AccountNotice.objects.exists()  # a first password is nothing to warn about


# --- The patient is told ----------------------------------------------------------------


def test_the_patient_is_told_by_email_and_at_the_next_sign_in(
    cast, client_as, client, django_capture_on_commit_callbacks
):
    cast.patient.email = "maria@example.org"
    cast.patient.save(update_fields=["email"])
    response = client_as(cast.front_desk).post(
        _reset_url(cast.patient.patient),
        {"confirmation": "in_person", "identity_document": "state_id"},
    )
    code = _code(response.content.decode())
    assert code is not None
    client.post(reverse("accounts:logout"))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _redeem(client, code)

    # A PHI-free email: no name, no program, nothing clinical.
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["maria@example.org"]
    text = str(message.subject) + str(message.body)
    assert "password" in text
    for phi in ("Maria", "Garcia", "Adult IOP", "Riverbend", "maria.g"):
        assert phi not in text

    # The next sign-in shows the notice before anything else.
    response = sign_in_with_password(client, "maria.g", NEW_PASSWORD)
    notice_url = reverse("accounts:account_notice")
    assert client.get(reverse("portal:home"))["Location"].startswith(notice_url)
    page = client.get(notice_url).content.decode()
    assert "reset code" in page and "ID card" in page
    assert "Need help now?" in page
    client.post(notice_url)
    assert client.get(reverse("portal:home")).status_code == 200
    assert AccountNotice.objects.get(user=cast.patient).seen_at is not None


# --- Who may issue ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona",
    [
        "on_call",
        "program_admin",
        "privacy_officer",
        "unassigned_clinician",
        "other_org_clinician",
        "other_patient",
        "patient",
        "parent",
    ],
)
def test_the_wrong_people_cannot_issue_a_checked_reset_code(cast, client_as, persona):
    response = client_as(getattr(cast, persona)).post(
        _reset_url(cast.patient.patient),
        {"confirmation": "in_person", "identity_document": "passport"},
    )
    assert response.status_code == 404
    assert not ResetCode.objects.exists()


def test_signed_out_people_cannot_issue_a_reset_code(cast, client):
    response = client.post(
        _reset_url(cast.patient.patient),
        {"confirmation": "in_person", "identity_document": "passport"},
    )
    assert response.status_code == 302
    assert not ResetCode.objects.exists()


def test_the_reset_code_endpoint_asks_the_gate_to_update(cast, client_as):
    client_as(cast.on_call).post(_reset_url(cast.patient.patient))
    assert AuditEvent.objects.filter(
        actor=cast.on_call,
        patient=cast.patient.patient,
        action="update",
        outcome=AuditEvent.Outcome.DENIED,
    ).exists()


def test_only_the_person_themself_can_mark_their_notice_read(cast, client_as, client):
    from tether.accounts.services import reset_code_issue, reset_code_redeem

    issued = reset_code_issue(
        user=cast.patient,
        created_by=cast.front_desk,
        confirmation=ResetCode.Confirmation.IN_PERSON,
        identity_document="passport",
    )
    reset_code_redeem(username="maria.g", code=issued.code, password=NEW_PASSWORD)
    url = reverse("accounts:account_notice")
    for persona in ("other_patient", "front_desk", "assigned_clinician", "other_org_clinician"):
        client_as(getattr(cast, persona)).post(url)
    client.logout()
    assert client.post(url).status_code == 302  # signed out: to sign in
    assert AccountNotice.objects.get(user=cast.patient).seen_at is None


def test_following_an_email_reset_link_verifies_the_address(
    cast, client, settings, django_capture_on_commit_callbacks
):
    """Only an address the patient proved is theirs can carry a confirmation code."""
    cast.patient.email = "maria@example.org"
    cast.patient.save(update_fields=["email"])
    client.post(reverse("accounts:password_reset"), {"email": "maria@example.org"})
    link = re.search(r"/accounts/reset/link/\S+/", str(mail.outbox[0].body))
    assert link is not None
    page = client.get(link.group(0), follow=True)
    client.post(
        page.redirect_chain[-1][0] if page.redirect_chain else link.group(0),
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    cast.patient.refresh_from_db()
    assert cast.patient.check_password(NEW_PASSWORD)
    assert cast.patient.email_verified_at is not None
