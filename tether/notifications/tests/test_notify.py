from __future__ import annotations

import logging

from django.core import mail

from tether.notifications.models import Notification
from tether.notifications.services import notify
from tether.privacy.models import BreakGlassGrant
from tether.privacy.services import BreakGlassReason, break_glass_start
from tether.testing.cast import Cast


def grant_for(cast: Cast) -> BreakGlassGrant:
    return break_glass_start(
        request=None,
        user=cast.unassigned_clinician,
        patient=cast.patient.patient,
        reason=BreakGlassReason.OTHER,
        explanation="A documented emergency that needed the record.",
    )


def test_it_stores_one_notification_per_recipient(cast):
    grant = grant_for(cast)
    Notification.objects.all().delete()
    created = notify(
        recipients=[cast.clinical_lead, cast.clinical_lead, cast.privacy_officer],
        kind=Notification.Kind.BREAK_GLASS,
        organization=cast.organization,
        actor=cast.unassigned_clinician,
        patient=cast.patient.patient,
        break_glass_grant=grant,
    )
    assert len(created) == 2
    assert {n.recipient for n in Notification.objects.all()} == {
        cast.clinical_lead,
        cast.privacy_officer,
    }


def test_it_emails_only_after_the_transaction_commits(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        grant_for(cast)
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 2
    assert mail.outbox[0].subject == "Tether: emergency access was used"


def test_it_skips_people_without_an_email_address(cast, django_capture_on_commit_callbacks):
    cast.privacy_officer.email = ""
    cast.privacy_officer.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        grant_for(cast)
    assert [m.to for m in mail.outbox] == [[cast.clinical_lead.email]]
    assert Notification.objects.filter(recipient=cast.privacy_officer).exists()


def test_a_mail_outage_does_not_undo_the_alert(
    cast, django_capture_on_commit_callbacks, settings, caplog
):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        grant_for(cast)
    assert Notification.objects.count() == 2
    assert "Could not send break_glass notification emails" in caplog.text
    assert "example.org" not in caplog.text
