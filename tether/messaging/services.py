"""Writing messages and notes. Every write records its audit event in its transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from tether.accounts.models import User
from tether.crisis.models import UrgentContactRequest
from tether.crisis.services import program_of, urgent_contact_raise
from tether.flags.services import evaluate_soon
from tether.messaging.crisis_language import DEFAULT_PHRASES, find_crisis_phrase
from tether.messaging.models import (
    MAX_MESSAGE_LENGTH,
    CrisisPhrase,
    InternalNote,
    Message,
    Thread,
)
from tether.organizations.models import Program
from tether.patients.models import Patient
from tether.privacy import audit
from tether.privacy.gate import family_category_for, record_category_for
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category

CATEGORY = Category.SHARED
# One after-hours reply per quiet spell: not again within this long without a team reply.
AFTER_HOURS_REPLY_GAP = dt.timedelta(hours=12)


class MessageError(ValueError):
    """The message cannot be sent as written (empty or too long)."""


@dataclass(frozen=True)
class SendResult:
    message: Message
    created: bool  # False: a double submission, the first one is returned


def _purpose_of(actor: User | None) -> Purpose:
    if actor is not None and actor.is_patient:
        return Purpose.PATIENT_REQUEST
    if actor is not None and actor.is_proxy:
        return Purpose.FAMILY
    return Purpose.TREATMENT


def _audit(
    *,
    actor: User | None,
    patient: Patient,
    action: Action,
    obj: object,
    category: Category = CATEGORY,
) -> None:
    audit.record(
        request=None,
        actor=actor,
        patient=patient,
        action=action,
        category=category,
        purpose=_purpose_of(actor),
        outcome=AuditEvent.Outcome.ALLOWED,
        obj=obj,  # type: ignore[arg-type]
    )


def thread_for(patient: Patient, kind: Thread.Kind = Thread.Kind.PATIENT) -> Thread:
    """The patient's own thread, or (``kind=FAMILY``) their family's thread."""
    thread, _created = Thread.objects.get_or_create(
        patient=patient, kind=kind, defaults={"organization_id": patient.organization_id}
    )
    return thread


def category_for(thread: Thread) -> Category:
    """The label a new message in this thread gets at capture.

    The patient's thread is written with the care team (``shared``); the family thread
    is for the family (``general``). In a substance-use program both are ``part2``, and
    proxies never reach ``part2`` (``tether.privacy.gate``).
    """
    if thread.kind == Thread.Kind.FAMILY:
        return family_category_for(thread.patient)
    return record_category_for(thread.patient, Category.SHARED)


def crisis_phrases_for(program: Program) -> list[str]:
    """The program's effective list: defaults, minus those turned off, plus its own."""
    changes = {c.phrase: c.is_active for c in CrisisPhrase.objects.filter(program=program)}
    phrases = [p for p in DEFAULT_PHRASES if changes.get(p, True)]
    phrases += sorted(p for p, active in changes.items() if active and p not in DEFAULT_PHRASES)
    return phrases


def clean_body(body: str) -> str:
    text = (body or "").strip()
    if not text:
        raise MessageError("empty")
    if len(text) > MAX_MESSAGE_LENGTH:
        raise MessageError("too_long")
    return text


def message_send_by_patient(
    *,
    patient: Patient,
    author: User,
    body: str,
    marked_urgent: bool = False,
    idempotency_key: uuid.UUID | None = None,
    now: dt.datetime | None = None,
) -> SendResult:
    """The patient writes to their care team.

    Crisis language (the program's phrase list) or the "urgent" box raises an
    urgent-contact request and adds a supportive automatic reply; after hours, an
    automatic reply says when to expect an answer. A repeated idempotency key returns
    the first message and records nothing new.
    """
    return _send_from_outside(
        patient=patient,
        kind=Thread.Kind.PATIENT,
        author=author,
        author_kind=Message.AuthorKind.PATIENT,
        body=body,
        marked_urgent=marked_urgent,
        idempotency_key=idempotency_key,
        now=now,
    )


def message_send_by_proxy(
    *,
    patient: Patient,
    author: User,
    body: str,
    marked_urgent: bool = False,
    idempotency_key: uuid.UUID | None = None,
    now: dt.datetime | None = None,
) -> SendResult:
    """A family member writes to the patient's care team, in the family thread.

    The caller has checked the messaging scope with ``gate.access_as_proxy``. Crisis
    language or the "urgent" box routes exactly like a patient's message: an
    urgent-contact request for the patient and the crisis automatic reply.
    """
    return _send_from_outside(
        patient=patient,
        kind=Thread.Kind.FAMILY,
        author=author,
        author_kind=Message.AuthorKind.PROXY,
        body=body,
        marked_urgent=marked_urgent,
        idempotency_key=idempotency_key,
        now=now,
    )


def _send_from_outside(
    *,
    patient: Patient,
    kind: Thread.Kind,
    author: User,
    author_kind: Message.AuthorKind,
    body: str,
    marked_urgent: bool,
    idempotency_key: uuid.UUID | None,
    now: dt.datetime | None,
) -> SendResult:
    now = now or timezone.now()
    text = clean_body(body)
    program = program_of(patient)
    thread = thread_for(patient, kind)
    if idempotency_key is not None:
        existing = Message.objects.filter(thread=thread, idempotency_key=idempotency_key).first()
        if existing is not None:
            return SendResult(existing, created=False)
    phrase = find_crisis_phrase(text, crisis_phrases_for(program))
    trigger = (
        Message.Trigger.PHRASE
        if phrase
        else (Message.Trigger.MARKED_URGENT if marked_urgent else "")
    )
    category = category_for(thread)
    try:
        with transaction.atomic():
            locked = Thread.objects.select_for_update(no_key=True).get(pk=thread.pk)
            message = Message.objects.create(
                organization_id=patient.organization_id,
                thread=locked,
                author=author,
                author_kind=author_kind,
                body=text,
                created_at=now,
                idempotency_key=idempotency_key,
                marked_urgent=marked_urgent,
                trigger=trigger,
                trigger_phrase=phrase or "",
                record_category=category.value,
            )
            locked.last_message_at = now
            locked.last_patient_message_at = now
            locked.patient_read_at = now
            if locked.awaiting_reply_since is None:
                locked.awaiting_reply_since = now
            locked.save()
            _audit(
                actor=author, patient=patient, action=Action.CREATE, obj=message, category=category
            )
            evaluate_soon(patient.pk)  # flag rules (crisis language), after the commit
            if trigger:
                urgent = urgent_contact_raise(
                    patient=patient,
                    source=UrgentContactRequest.Source.MESSAGE,
                    now=now,
                    actor=author,
                )
                message.urgent_request = urgent
                message.save(update_fields=["urgent_request"])
                _auto_reply(locked, Message.AutoReply.CRISIS, now=now, urgent=urgent)
            elif not program.is_office_hours(now) and _needs_after_hours_reply(locked, now):
                _auto_reply(locked, Message.AutoReply.AFTER_HOURS, now=now)
    except IntegrityError:
        # Two submissions with one key raced: the other one won; return it.
        if idempotency_key is None:
            raise
        existing = Message.objects.get(thread=thread, idempotency_key=idempotency_key)
        return SendResult(existing, created=False)
    return SendResult(message, created=True)


def _needs_after_hours_reply(thread: Thread, now: dt.datetime) -> bool:
    recent = (
        Message.objects.filter(
            thread=thread,
            auto_reply=Message.AutoReply.AFTER_HOURS,
            created_at__gte=now - AFTER_HOURS_REPLY_GAP,
        )
        .order_by("-created_at")
        .first()
    )
    if recent is None:
        return True
    return (
        thread.last_team_message_at is not None and thread.last_team_message_at > recent.created_at
    )


def _auto_reply(
    thread: Thread,
    kind: Message.AutoReply,
    *,
    now: dt.datetime,
    urgent: UrgentContactRequest | None = None,
) -> Message:
    # A microsecond later, so it always sorts after the message it answers.
    return Message.objects.create(
        organization_id=thread.organization_id,
        thread=thread,
        author=None,
        author_kind=Message.AuthorKind.SYSTEM,
        auto_reply=kind,
        created_at=now + dt.timedelta(microseconds=1),
        urgent_request=urgent,
        record_category=category_for(thread).value,
    )


def message_send_by_staff(
    *,
    thread: Thread,
    author: User,
    body: str,
    idempotency_key: uuid.UUID | None = None,
    now: dt.datetime | None = None,
) -> SendResult:
    """A care-team member answers; the response time is measured from the oldest
    unanswered patient message."""
    now = now or timezone.now()
    text = clean_body(body)
    if idempotency_key is not None:
        existing = Message.objects.filter(thread=thread, idempotency_key=idempotency_key).first()
        if existing is not None:
            return SendResult(existing, created=False)
    try:
        with transaction.atomic():
            locked = (
                Thread.objects.select_for_update(no_key=True, of=("self",))
                .select_related("patient")
                .get(pk=thread.pk)
            )
            waited = (
                int((now - locked.awaiting_reply_since).total_seconds())
                if locked.awaiting_reply_since is not None
                else None
            )
            category = category_for(locked)
            message = Message.objects.create(
                organization_id=locked.organization_id,
                thread=locked,
                author=author,
                author_kind=Message.AuthorKind.STAFF,
                body=text,
                created_at=now,
                idempotency_key=idempotency_key,
                response_seconds=max(waited, 0) if waited is not None else None,
                record_category=category.value,
            )
            locked.last_message_at = now
            locked.last_team_message_at = now
            locked.team_read_at = now
            locked.awaiting_reply_since = None
            locked.save()
            _audit(
                actor=author,
                patient=locked.patient,
                action=Action.CREATE,
                obj=message,
                category=category,
            )
    except IntegrityError:
        if idempotency_key is None:
            raise
        existing = Message.objects.get(thread=thread, idempotency_key=idempotency_key)
        return SendResult(existing, created=False)
    return SendResult(message, created=True)


def note_add(
    *, thread: Thread, author: User, body: str, now: dt.datetime | None = None
) -> InternalNote:
    """A staff-only note on the thread (never shown to the patient)."""
    text = clean_body(body)
    with transaction.atomic():
        note = InternalNote.objects.create(
            organization_id=thread.organization_id,
            thread=thread,
            author=author,
            body=text,
            created_at=now or timezone.now(),
        )
        audit.record(
            request=None,
            actor=author,
            patient=thread.patient,
            action=Action.CREATE,
            category=CATEGORY,
            purpose=Purpose.TREATMENT,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=note,
        )
    return note


def thread_mark_read(*, thread: Thread, by_patient: bool, now: dt.datetime | None = None) -> None:
    field = "patient_read_at" if by_patient else "team_read_at"
    Thread.objects.filter(pk=thread.pk).update(**{field: now or timezone.now()})


def crisis_phrase_set(*, program: Program, phrase: str, active: bool, user: User) -> CrisisPhrase:
    """Add a phrase to a program's list, or turn one (default or added) on or off."""
    from tether.messaging.crisis_language import normalize

    cleaned = normalize(phrase).strip()
    if not cleaned:
        raise MessageError("empty")
    with transaction.atomic():
        row, _created = CrisisPhrase.objects.update_or_create(
            program=program,
            phrase=cleaned,
            defaults={
                "organization_id": program.organization_id,
                "is_active": active,
                "created_by": user,
            },
        )
        audit.record(
            request=None,
            actor=user,
            patient=None,
            action=Action.UPDATE,
            category=Category.GENERAL,
            purpose=Purpose.OPERATIONS,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=row,
        )
    return row
