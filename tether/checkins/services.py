"""Writes for check-ins and measures: start a response, save each answer as a draft,
submit once. Each in one transaction with its audit event; a safety flag is stored
in the same transaction as the answer that raised it."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from tether.checkins import engine
from tether.checkins.models import Answer, Response
from tether.checkins.selectors import Due, program_flags
from tether.flags.models import Flag
from tether.flags.services import evaluate_in_transaction, flag_raise
from tether.patients.models import Episode, Patient
from tether.privacy import audit
from tether.privacy.gate import record_category_for
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category, Relation

if TYPE_CHECKING:
    from tether.accounts.models import User

logger = logging.getLogger(__name__)


class ResponseClosed(Exception):
    """The response was already sent (or closed): nothing changed."""


class ResponseExpired(Exception):
    """The window closed before this answer arrived; what was answered is kept."""


class MissingAnswers(Exception):
    def __init__(self, items: list[engine.Item]) -> None:
        super().__init__(", ".join(item.code for item in items))
        self.items = items


def _audit(actor: User, response: Response, action: Action) -> None:
    audit.record(
        request=None,
        actor=actor,
        patient=response.patient,
        action=action,
        category=Category(response.record_category),
        purpose=Purpose.PATIENT_REQUEST,
        outcome=AuditEvent.Outcome.ALLOWED,
        obj=response,
        relation=Relation.SELF,
    )


def items_for(response: Response) -> tuple[engine.Item, ...]:
    return response.instrument.spec.items_for(program_flags(response.episode))


def response_start(*, actor: User, patient: Patient, episode: Episode, due: Due) -> Response:
    """The draft for this window: the one in progress, or a new one."""
    now = timezone.now()
    try:
        with transaction.atomic():
            response, created = Response.objects.get_or_create(
                patient=patient,
                instrument=due.instrument,
                window=due.window.key,
                defaults={
                    "organization_id": patient.organization_id,
                    "episode": episode,
                    # Labelled at capture: a Part 2 program's check-ins are Part 2 records.
                    "record_category": record_category_for(episode, Category.SELF_REPORT),
                    "started_at": now,
                    "expires_at": due.window.closes_at,
                },
            )
            if created:
                _audit(actor, response, Action.CREATE)
    except IntegrityError:  # a double tap created it a moment ago
        response = Response.objects.get(
            patient=patient, instrument=due.instrument, window=due.window.key
        )
    return response


def response_close_expired(*, response: Response, now: dt.datetime | None = None) -> bool:
    """Close a draft whose window has passed: kept as incomplete, never scored."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Response.objects.select_for_update(no_key=True).get(pk=response.pk)
        if locked.status != Response.Status.DRAFT or now < locked.expires_at:
            return False
        locked.status = Response.Status.INCOMPLETE
        locked.submitted_at = now
        locked.save(update_fields=["status", "submitted_at"])
        audit.record(
            request=None,
            actor=None,
            patient=response.patient,
            action=Action.UPDATE,
            category=Category(locked.record_category),
            purpose=Purpose.PATIENT_REQUEST,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=locked,
        )
    response.status, response.submitted_at = locked.status, locked.submitted_at
    return True


def responses_close_expired(*, now: dt.datetime | None = None) -> int:
    """Close every draft whose window has passed (``manage.py close_expired_checkins``,
    for the scheduler). Abandoned answers are kept, stored as incomplete."""
    now = now or timezone.now()
    closed = 0
    for response in Response.objects.filter(
        status=Response.Status.DRAFT, expires_at__lte=now
    ).select_related("patient"):
        closed += response_close_expired(response=response, now=now)
    return closed


def risk_detected(*, response: Response, flag: Flag, rule: engine.AlertRule) -> None:
    """Called inside the answer's transaction whenever an alert rule fires.

    The flag is already stored with the answer. Here the crisis pathway starts: an
    urgent-contact request to the care team in program hours, to on-call after hours,
    with its escalation clock. It runs in a savepoint of the same transaction, so the
    request is stored together with the answer and its flag; if routing fails for any
    reason the answer and the flag are still kept (a risky answer is never dropped) and
    the failure is logged by ids only.
    """
    from tether.crisis.models import UrgentContactRequest
    from tether.crisis.services import urgent_contact_raise

    try:
        with transaction.atomic():
            urgent_contact_raise(
                patient=response.patient,
                source=UrgentContactRequest.Source.CHECKIN,
                actor=response.patient.user,
            )
    except Exception:
        logger.exception(
            "Urgent-contact request failed for check-in response %s (flag %s)",
            response.pk,
            flag.pk,
        )


@dataclass(frozen=True)
class Saved:
    answer: Answer
    alerts: tuple[engine.AlertRule, ...]


def answer_save(*, actor: User, response: Response, item: engine.Item, raw: object) -> Saved:
    """Save one answer to a draft. ``InvalidAnswer`` (nothing written),
    ``ResponseClosed`` or ``ResponseExpired`` (what was answered is kept)."""
    value = item.clean(raw)
    if item not in items_for(response):
        raise engine.InvalidAnswer(item.code)
    now = timezone.now()
    if response.status == Response.Status.DRAFT and now >= response.expires_at:
        response_close_expired(response=response, now=now)
        raise ResponseExpired
    spec = response.instrument.spec
    with transaction.atomic():
        locked = Response.objects.select_for_update(no_key=True).get(pk=response.pk)
        if locked.status != Response.Status.DRAFT:
            raise ResponseClosed
        answer, _ = Answer.objects.update_or_create(
            response=locked,
            item_code=item.code,
            defaults={
                "organization_id": locked.organization_id,
                "value": value if isinstance(value, int) else None,
                "text": value if isinstance(value, str) and value else None,
                "answered_at": now,
            },
        )
        _audit(actor, locked, Action.UPDATE)
        alerts = tuple(spec.alerts_for(item.code, value))
        for rule in alerts:
            flag, _created = flag_raise(
                patient=response.patient,
                episode=response.episode,
                kind=Flag.Kind(rule.kind),
                reason=rule.reason,
                source=locked,
            )
            risk_detected(response=locked, flag=flag, rule=rule)
    return Saved(answer, alerts)


def answers_of(response: Response) -> dict[str, int | str | None]:
    # Three columns, no model instances: a submit reads every answer of the response.
    return {
        code: (value if value is not None else text)
        for code, value, text in Answer.objects.filter(response=response).values_list(
            "item_code", "value", "text"
        )
    }


def missing_items(response: Response, answers: dict[str, int | str | None]) -> list[engine.Item]:
    return [item for item in items_for(response) if item.required and item.code not in answers]


@dataclass(frozen=True)
class Submitted:
    response: Response
    already: bool  # a second submission of the same response: nothing changed


def response_submit(
    *,
    actor: User,
    response: Response,
    allow_incomplete: bool = False,
    language: str = "en",
    locked: bool = False,
) -> Submitted:
    """Send the response to the care team, once. Scored exactly as published;
    with required answers missing it is stored incomplete (only if allowed).

    ``locked=True``: the caller already holds the response's row lock in its own open
    transaction (``lock_for_submit``), and the submit joins that transaction (the
    check-in's finish page: one commit for the access event, the response and its
    events). Otherwise the submit opens its own transaction and locks the row.
    """
    now = timezone.now()
    if response.status == Response.Status.DRAFT and now >= response.expires_at:
        response_close_expired(response=response, now=now)
        raise ResponseExpired
    if locked:
        return _submit_locked(actor, response, allow_incomplete, language, now)
    with transaction.atomic():
        return _submit_locked(
            actor, lock_for_submit(pk=response.pk), allow_incomplete, language, now
        )


def lock_for_submit(**lookup: object) -> Response:
    """The response with its row locked until the transaction ends, with what a submit
    reads (instrument, episode and program, patient), in one query.
    ``Response.DoesNotExist`` when there is none."""
    return (
        Response.objects.select_for_update(no_key=True, of=("self",))
        .select_related("instrument", "episode__program", "patient")
        .get(**lookup)
    )


def _submit_locked(
    actor: User, locked: Response, allow_incomplete: bool, language: str, now: dt.datetime
) -> Submitted:
    """The submit proper, in the caller's transaction, with ``locked``'s row locked.
    Raises ``MissingAnswers`` before it writes anything."""
    if locked.status != Response.Status.DRAFT:
        return Submitted(locked, already=True)
    answers = answers_of(locked)
    missing = missing_items(locked, answers)
    if missing and not allow_incomplete:
        raise MissingAnswers(missing)
    result = engine.score(locked.instrument.spec, answers)
    complete = not missing and result.complete
    locked.status = Response.Status.COMPLETE if complete else Response.Status.INCOMPLETE
    locked.total = result.total if complete else None
    locked.band = result.band.code if complete and result.band else ""
    locked.submitted_at = now
    locked.language = language
    locked.save(update_fields=["status", "total", "band", "submitted_at", "language"])
    _audit(actor, locked, Action.UPDATE)
    # The program's flag rules: the worker's task is stored in this transaction.
    evaluate_in_transaction(locked.patient_id)
    return Submitted(locked, already=False)
