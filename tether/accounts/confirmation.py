"""How a patient confirms, themself, that staff may hand them a way back into their account.

A one-time code goes to an address the patient has proved is theirs; the patient types it
together with the reset code from the front desk. Each way of reaching the patient is a
``Channel``. Email is built (Django's mail); SMS is not yet: it plugs in as one more
class in ``CHANNELS`` (``available_for``: the patient has a *verified* number; ``send``:
through the SMS provider adapter), and nothing else changes.

Messages carry the code and nothing else: no name, no program, nothing clinical (the
channel leaves our control).
"""

from __future__ import annotations

import logging
import secrets
from typing import Protocol

from django.core.mail import EmailMessage
from django.utils.translation import gettext as _

from tether.accounts.models import User

logger = logging.getLogger("tether.accounts")

CODE_DIGITS = 6


def new_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))


class Channel(Protocol):
    code: str

    def label(self) -> str:
        """For staff choosing how the patient confirms."""
        ...

    def available_for(self, user: User) -> bool:
        """The person has a verified address on this channel."""
        ...

    def masked_address(self, user: User) -> str:
        """Enough of the address for staff to tell the patient where to look."""
        ...

    def send(self, user: User, code: str, valid_minutes: int) -> None: ...


class EmailChannel:
    code = "email"

    def label(self) -> str:
        return _("Their verified email")

    def available_for(self, user: User) -> bool:
        return bool(user.email) and user.email_verified_at is not None

    def masked_address(self, user: User) -> str:
        local, _at, domain = user.email.partition("@")
        return f"{local[:1]}…@{domain}"

    def send(self, user: User, code: str, valid_minutes: int) -> None:
        message = EmailMessage(
            _("Your Tether confirmation code"),
            _(
                "Your confirmation code is %(code)s\n\n"
                "Someone at your program's front desk is giving you a code to reset the "
                "password of your Tether account. Type this confirmation code together with "
                "it. It works once, for %(minutes)s minutes.\n\n"
                "If you did not ask for this, do not share this code with anyone and tell "
                "your program."
            )
            % {"code": code, "minutes": valid_minutes},
            to=[user.email],
        )
        message.send()
        logger.info("confirmation code sent: user=%s channel=email", user.pk)


CHANNELS: dict[str, Channel] = {EmailChannel.code: EmailChannel()}


def channels_for(user: User) -> list[Channel]:
    """The channels on which this person can receive a code now."""
    return [channel for channel in CHANNELS.values() if channel.available_for(user)]
