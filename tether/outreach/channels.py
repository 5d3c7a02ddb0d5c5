"""The channels behind one interface: ``backend_for(channel).send(...)``.

SMS goes through Twilio's official REST client, Web Push through ``pywebpush`` (VAPID
keys from settings, RFC 8030 / 8292), e-mail through Django's mail. The ``console``
backends send nothing anywhere: the outbox table (``OutboundMessage``) is the record
the demo's phone page reads. Tests always run with them.

Backends are called after the message row is committed, never inside a transaction
that holds a lock (docs/ARCHITECTURE.md, "Locks").
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from tether.outreach.models import Channel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    provider_id: str
    status: str  # an OutboundMessage.Status value
    error_code: str = ""
    gone: bool = False  # the push subscription has expired: remove it


@dataclass(frozen=True)
class PushTarget:
    endpoint: str
    p256dh: str
    auth: str


class Backend(Protocol):
    def send(
        self, *, to: str, body: str, url: str = "", push: PushTarget | None = None
    ) -> Delivery: ...


class ConsoleBackend:
    """Keeps the message in the outbox only (demo, tests)."""

    def send(
        self, *, to: str, body: str, url: str = "", push: PushTarget | None = None
    ) -> Delivery:
        return Delivery(provider_id="", status="sent")


class TwilioSmsBackend:
    def send(
        self, *, to: str, body: str, url: str = "", push: PushTarget | None = None
    ) -> Delivery:
        from twilio.base.exceptions import TwilioRestException
        from twilio.rest import Client

        client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
        try:
            message = client.messages.create(
                to=to,
                from_=settings.TWILIO_FROM_NUMBER,
                body=body,
                status_callback=settings.TETHER_PUBLIC_BASE_URL + reverse("outreach:twilio_status"),
            )
        except TwilioRestException as error:
            logger.warning("Twilio refused a message: code %s", error.code)
            return Delivery(provider_id="", status="failed", error_code=str(error.code or ""))
        return Delivery(provider_id=str(message.sid), status="sent")


class WebPushBackend:
    def send(
        self, *, to: str, body: str, url: str = "", push: PushTarget | None = None
    ) -> Delivery:
        from pywebpush import WebPushException, webpush

        if push is None:
            return Delivery(provider_id="", status="failed", error_code="no_subscription")
        payload = json.dumps({"title": settings.TETHER_SMS_BRAND, "body": body, "url": url})
        try:
            webpush(
                subscription_info={
                    "endpoint": push.endpoint,
                    "keys": {"p256dh": push.p256dh, "auth": push.auth},
                },
                data=payload,
                vapid_private_key=settings.VAPID_PRIVATE_KEY,
                vapid_claims={"sub": settings.VAPID_SUBJECT},
                ttl=3600,
            )
        except WebPushException as error:
            status = getattr(error.response, "status_code", None)
            # 404 / 410: the subscription is gone (RFC 8030 §7.3); remove it.
            return Delivery("", "failed", error_code=str(status or ""), gone=status in (404, 410))
        return Delivery(provider_id="", status="sent")


class EmailBackend:
    def send(
        self, *, to: str, body: str, url: str = "", push: PushTarget | None = None
    ) -> Delivery:
        # Subject: the neutral brand only (a subject line is a lock-screen preview too).
        sent = send_mail(settings.TETHER_SMS_BRAND, body, None, [to], fail_silently=True)
        return Delivery(provider_id="", status="sent" if sent else "failed")


def backend_for(channel: str) -> Backend:
    if channel == Channel.SMS:
        return TwilioSmsBackend() if settings.TETHER_SMS_BACKEND == "twilio" else ConsoleBackend()
    if channel == Channel.PUSH:
        return WebPushBackend() if settings.TETHER_PUSH_BACKEND == "webpush" else ConsoleBackend()
    return EmailBackend()
