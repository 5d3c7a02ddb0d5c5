"""Raising and reading notifications."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tether.notifications.models import Notification

if TYPE_CHECKING:
    from datetime import datetime

    from tether.accounts.models import User
    from tether.consent.models import ConsentDirective
    from tether.crisis.models import UrgentContactRequest
    from tether.organizations.models import Organization
    from tether.patients.models import Patient
    from tether.privacy.models import BreakGlassGrant

logger = logging.getLogger(__name__)


def _email_text(kind: Notification.Kind) -> tuple[str, str]:
    """Subject and body for a kind. No PHI, ever: email leaves our control."""
    link = settings.SITE_URL.rstrip("/") + reverse("notifications:list")
    if kind == Notification.Kind.BREAK_GLASS:
        return (
            _("Tether: emergency access was used"),
            _(
                "Emergency access was used in Tether; review it in the audit report.\n\n"
                "Sign in to see the details: %(link)s"
            )
            % {"link": link},
        )
    if kind in (Notification.Kind.URGENT_REQUEST, Notification.Kind.URGENT_ESCALATED):
        return (
            _("Tether: a patient needs urgent contact"),
            _(
                "A patient asked for urgent contact and it needs acknowledging now.\n\n"
                "Sign in to see who and to acknowledge it: %(link)s"
            )
            % {"link": link},
        )
    if kind == Notification.Kind.TWO_STEP_RESET:
        return (
            _("Tether: a two-step sign-in was reset"),
            _(
                "A program admin reset the two-step sign-in of a Tether staff account: "
                "yours, or one you oversee as privacy officer. The authenticator app must be "
                "set up again at the next sign-in. If you did not expect this, tell your "
                "privacy officer.\n\n"
                "Sign in to see the details: %(link)s"
            )
            % {"link": link},
        )
    if kind == Notification.Kind.CONSENT_STAFF_ENTERED:
        return (
            _("Tether: a consent was entered on a staff device"),
            _(
                "A patient's consent to share information was entered on a staff device, "
                "witnessed by staff. Review who entered and witnessed it.\n\n"
                "Sign in to see the details: %(link)s"
            )
            % {"link": link},
        )
    raise ValueError(f"No email text for notification kind {kind!r}")


def _send_emails(kind: Notification.Kind, addresses: list[str]) -> None:
    subject, body = _email_text(kind)
    messages = [EmailMessage(subject, body, to=[address]) for address in addresses]
    try:
        for message in messages:
            message.send()
    except Exception:
        # The in-app notification is already committed; a mail outage must not turn the
        # request that raised it into an error. Logged without addresses or PHI.
        logger.exception("Could not send %s notification emails", kind)


@transaction.atomic
def notify(
    *,
    recipients: Iterable[User],
    kind: Notification.Kind,
    organization: Organization,
    actor: User | None = None,
    patient: Patient | None = None,
    break_glass_grant: BreakGlassGrant | None = None,
    urgent_request: UrgentContactRequest | None = None,
    consent: ConsentDirective | None = None,
    now: datetime | None = None,
) -> list[Notification]:
    """Store one notification per recipient and, once committed, email each of them."""
    people = {user.pk: user for user in recipients}
    now = now or timezone.now()
    notifications = Notification.objects.bulk_create(
        [
            Notification(
                organization=organization,
                recipient=user,
                kind=kind,
                actor=actor,
                patient=patient,
                break_glass_grant=break_glass_grant,
                urgent_request=urgent_request,
                consent=consent,
                created_at=now,
            )
            for user in people.values()
        ]
    )
    addresses = sorted({user.email for user in people.values() if user.email})
    if addresses:
        transaction.on_commit(lambda: _send_emails(kind, addresses))
    return notifications


def notifications_for(*, user: User) -> QuerySet[Notification]:
    """The user's own notifications, newest first, with what the list shows."""
    if user.organization_id is None:
        return Notification.objects.none()
    return (
        Notification.objects.filter(recipient=user, organization_id=user.organization_id)
        .select_related(
            "actor__staff_member",
            "break_glass_grant",
            "urgent_request",
            "patient",
            "consent__witnessed_by",
        )
        .order_by("-created_at", "-pk")
    )


def notifications_mark_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
