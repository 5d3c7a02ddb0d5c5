"""Crisis language in a text (the check-in answered by text: ``conversation.py``).

Crisis language in a text goes where it goes in the app:
the words are posted to the patient's care-team thread by
``tether.messaging.services.message_send_by_patient``, which raises the urgent-contact
request (flag rules, escalation clock) exactly as a message typed in the portal does.
If anything in that path fails, the urgent request is raised directly (source: SMS) and
the failure logged by ids: a risky text is never dropped.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from django.db import transaction

from tether.organizations.models import Program
from tether.patients.models import Patient

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CrisisOutcome:
    raised: bool
    program: Program | None = None


def crisis_in(patient: Patient, text: str, *, message_sid: str, now: dt.datetime) -> CrisisOutcome:
    """Crisis language or a plea for help now, read with the program's own lists."""
    from tether.crisis.models import UrgentContactRequest
    from tether.crisis.services import NoProgramError, program_of, urgent_contact_raise
    from tether.messaging.crisis_language import find_crisis_phrase, find_urgent_plea
    from tether.messaging.models import MAX_MESSAGE_LENGTH
    from tether.messaging.services import (
        crisis_phrases_for,
        message_send_by_patient,
        urgent_pleas_for,
    )

    try:
        program = program_of(patient)
    except NoProgramError:
        program = None
    if program is not None:
        phrases, pleas = crisis_phrases_for(program), urgent_pleas_for(program)
    else:
        from tether.messaging.crisis_language import DEFAULT_PHRASES, DEFAULT_PLEAS

        phrases, pleas = list(DEFAULT_PHRASES), list(DEFAULT_PLEAS)
    if not (find_crisis_phrase(text, phrases) or find_urgent_plea(text, pleas)):
        return CrisisOutcome(False, program)
    try:
        with transaction.atomic():
            if patient.user is None or program is None:
                raise LookupError("no account or program")
            message_send_by_patient(
                patient=patient,
                author=patient.user,
                body=text[:MAX_MESSAGE_LENGTH],
                idempotency_key=uuid.uuid5(uuid.NAMESPACE_URL, "twilio:" + message_sid),
                now=now,
            )
    except Exception:
        logger.exception("Text crisis path via messaging failed for patient %s", patient.pk)
        try:
            with transaction.atomic():
                urgent_contact_raise(
                    patient=patient,
                    source=UrgentContactRequest.Source.SMS,
                    actor=patient.user,
                    now=now,
                )
        except Exception:
            logger.exception("Urgent-contact request from a text failed for patient %s", patient.pk)
    return CrisisOutcome(True, program)
