"""The daily check-in by text, through the same services as the web flow.

A number replied to the daily question is saved as the daily check-in's ``mood``
answer with ``tether.checkins.services`` (the same instrument, window, audit and alert
rules as a tap on the page). Crisis language in a text goes where it goes in the app:
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

from tether.checkins import engine
from tether.checkins.selectors import current_episode, due_for
from tether.checkins.services import (
    ResponseClosed,
    ResponseExpired,
    answer_save,
    items_for,
    response_start,
)
from tether.organizations.models import Program
from tether.patients.models import Patient

logger = logging.getLogger(__name__)

DAILY = "daily"
MOOD = "mood"


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


@dataclass(frozen=True)
class MoodOutcome:
    saved: bool
    risky: bool = False


def record_mood(*, patient: Patient, value: int, now: dt.datetime) -> MoodOutcome:
    """Save ``value`` as today's daily mood, if the daily check-in is open for this
    patient's program now; else nothing is saved (the reply says so)."""
    episode = current_episode(patient=patient)
    if episode is None or patient.user is None:
        return MoodOutcome(False)
    due = next(
        (
            d
            for d in due_for(patient=patient, episode=episode, now=now)
            if d.instrument.code == DAILY and d.is_daily
        ),
        None,
    )
    if due is None:
        return MoodOutcome(False)
    response = due.draft or response_start(
        actor=patient.user, patient=patient, episode=episode, due=due
    )
    item = next((i for i in items_for(response) if i.code == MOOD), None)
    if item is None:
        return MoodOutcome(False)
    try:
        saved = answer_save(actor=patient.user, response=response, item=item, raw=str(value))
    except (ResponseClosed, ResponseExpired, engine.InvalidAnswer):
        return MoodOutcome(False)
    return MoodOutcome(True, risky=bool(saved.alerts))
