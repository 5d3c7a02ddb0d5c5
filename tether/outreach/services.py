"""Writes for outreach: preferences and SMS consent, the outbox, delivery status, and
the texts patients send (keywords, the daily check-in by text, crisis language).

Each write runs in a transaction with its audit event (ids and codes only). Backends
(Twilio, Web Push, mail) are called after the commit (``deliver``), never while a row
lock is held.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from tether.lib.phones import InvalidPhoneNumber, display_phone, parse_phone
from tether.organizations.models import Program
from tether.outreach import content
from tether.outreach.channels import PushTarget, backend_for
from tether.outreach.checkin_by_text import crisis_in
from tether.outreach.conversation import answer_by_text
from tether.outreach.models import (
    Channel,
    ContactPreference,
    InboundMessage,
    Kind,
    OutboundMessage,
    PushSubscription,
    SmsConsentEvent,
)
from tether.patients.models import Patient
from tether.privacy import audit
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category, Relation

if TYPE_CHECKING:
    from tether.accounts.models import User

logger = logging.getLogger(__name__)

# CTIA keywords (Twilio's defaults are the same words). Matched on the whole text.
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})
MAX_STORED_REPLY = 1600  # Twilio's longest concatenated message


def _audit_write(
    patient: Patient, obj: object, *, actor: User | None = None, purpose: Purpose
) -> None:
    audit.record(
        request=None,
        actor=actor,
        patient=patient,
        action=Action.UPDATE if obj is not None and getattr(obj, "pk", None) else Action.CREATE,
        category=Category.GENERAL,
        purpose=purpose,
        outcome=AuditEvent.Outcome.ALLOWED,
        obj=obj,  # type: ignore[arg-type]
        relation=Relation.SELF if actor is not None and actor.pk == patient.user_id else "",
    )


# --- Preferences and consent -------------------------------------------------------


def preference_for(patient: Patient) -> ContactPreference:
    """The patient's preference row (created with the defaults: nothing by text)."""
    pref, _ = ContactPreference.objects.get_or_create(
        patient=patient, defaults={"organization_id": patient.organization_id}
    )
    return pref


def tz_of(pref: ContactPreference, program: Program | None) -> zoneinfo.ZoneInfo:
    name = pref.time_zone or (program.time_zone if program is not None else "") or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def in_quiet_hours(
    *, quiet_from: dt.time, quiet_until: dt.time, tz: zoneinfo.ZoneInfo, now: dt.datetime
) -> bool:
    """Whether ``now`` falls in the quiet hours, read on the patient's own clock (so a
    daylight-saving change moves the hours with the patient, not with UTC)."""
    local = now.astimezone(tz).time()
    if quiet_from == quiet_until:
        return False
    if quiet_from < quiet_until:
        return quiet_from <= local < quiet_until
    return local >= quiet_from or local < quiet_until


@dataclass(frozen=True)
class PreferenceChange:
    by_sms: bool
    by_push: bool
    by_email: bool
    checkin_due: bool
    session_reminder: bool
    homework_due: bool
    care_team_message: bool
    daily_checkin_by_text: bool
    quiet_from: dt.time
    quiet_until: dt.time
    sms_phone: str = ""


def preference_update(
    *, patient: Patient, actor: User, change: PreferenceChange, now: dt.datetime | None = None
) -> ContactPreference:
    """The patient's own change in the portal. Turning texts on with a number records
    the opt-in (method: portal, recorded by the patient). A number is stored in E.164."""
    now = now or timezone.now()
    phone = parse_phone(change.sms_phone) if change.sms_phone else ""
    with transaction.atomic():
        pref = preference_for(patient)
        pref = ContactPreference.objects.select_for_update(no_key=True).get(pk=pref.pk)
        number_changed = phone != pref.sms_phone
        for name in PreferenceChange.__dataclass_fields__:
            if name != "sms_phone":
                setattr(pref, name, getattr(change, name))
        pref.sms_phone = phone
        if number_changed:
            pref.sms_opted_in_at = None
            pref.sms_failing_since = None
        if pref.by_sms and phone and (pref.sms_opted_in_at is None or pref.sms_stopped_at):
            pref.sms_opted_in_at = now
            pref.sms_stopped_at = None
            SmsConsentEvent.objects.create(
                organization_id=patient.organization_id,
                patient=patient,
                phone=phone,
                change=SmsConsentEvent.Change.OPT_IN,
                method=SmsConsentEvent.Method.PORTAL,
                occurred_at=now,
                recorded_by=actor,
            )
        if not pref.by_sms and pref.sms_opted_in_at and not pref.sms_stopped_at:
            pref.sms_stopped_at = now
            SmsConsentEvent.objects.create(
                organization_id=patient.organization_id,
                patient=patient,
                phone=pref.sms_phone or "-",
                change=SmsConsentEvent.Change.OPT_OUT,
                method=SmsConsentEvent.Method.PORTAL,
                occurred_at=now,
                recorded_by=actor,
            )
        pref.save()
        _audit_write(patient, pref, actor=actor, purpose=Purpose.PATIENT_REQUEST)
    return pref


def sms_opt_in_at_intake(
    *,
    patient: Patient,
    phone: str,
    recorded_by: User,
    witnessed_by: User,
    now: dt.datetime | None = None,
) -> ContactPreference:
    """The opt-in taken in person at intake: who recorded it and who witnessed it."""
    now = now or timezone.now()
    number = parse_phone(phone)
    with transaction.atomic():
        pref = preference_for(patient)
        pref = ContactPreference.objects.select_for_update(no_key=True).get(pk=pref.pk)
        pref.sms_phone, pref.by_sms = number, True
        pref.sms_opted_in_at, pref.sms_stopped_at = now, None
        pref.save()
        SmsConsentEvent.objects.create(
            organization_id=patient.organization_id,
            patient=patient,
            phone=number,
            change=SmsConsentEvent.Change.OPT_IN,
            method=SmsConsentEvent.Method.INTAKE,
            occurred_at=now,
            recorded_by=recorded_by,
            witnessed_by=witnessed_by,
        )
        _audit_write(patient, pref, actor=recorded_by, purpose=Purpose.TREATMENT)
    return pref


# --- The outbox ------------------------------------------------------------------


def forbidden_names(organization_id: int | None) -> list[str]:
    """Names no outbound body may carry: the organization's program names."""
    if organization_id is None:
        return []
    return list(
        Program.objects.filter(organization_id=organization_id).values_list("name", flat=True)
    )


@dataclass(frozen=True)
class Draft:
    patient: Patient
    channel: str
    kind: str
    to: str
    body: str
    dedupe_key: str = ""


def queue_many(
    drafts: Sequence[Draft],
    *,
    now: dt.datetime,
    purpose: Purpose = Purpose.TREATMENT,
    checked: bool = False,
) -> list[OutboundMessage]:
    """Store the messages and their audit events (two bulk inserts each), skipping any
    already sent for the same window (``dedupe_key``). Delivered after the commit.

    ``checked``: the caller (the sweep) has already passed every body's template through
    ``content.check_body`` and dropped the keys already sent, in SQL; the unique
    constraint still stops a second sweep running at the same moment."""
    if not drafts:
        return []
    names: dict[int, list[str]] = {}
    for draft in drafts if not checked else ():
        org = draft.patient.organization_id
        if org not in names:
            names[org] = forbidden_names(org)
        content.check_body(draft.body, names=names[org])
    keyed = [d for d in drafts if d.dedupe_key] if not checked else []
    done: set[tuple[int, str, str]] = set()
    if keyed:
        done = set(
            OutboundMessage.objects.filter(
                patient_id__in={d.patient.pk for d in keyed},
                dedupe_key__in={d.dedupe_key for d in keyed},
            ).values_list("patient_id", "channel", "dedupe_key")
        )
    rows = [
        OutboundMessage(
            organization_id=d.patient.organization_id,
            patient=d.patient,
            channel=d.channel,
            kind=d.kind,
            to=d.to,
            body=d.body,
            dedupe_key=d.dedupe_key,
            created_at=now,
        )
        for d in drafts
        if (d.patient.pk, d.channel, d.dedupe_key) not in done
    ]
    if not rows:
        return []
    try:
        with transaction.atomic():
            OutboundMessage.objects.bulk_create(rows)
            events = []
            for row in rows:
                event = audit.event_for(
                    request=None,
                    actor=None,
                    patient=row.patient,
                    action=Action.CREATE,
                    category=Category.GENERAL,
                    purpose=purpose,
                    object_type="outreach.outboundmessage",
                )
                event.object_id = str(row.pk)
                events.append(event)
            audit.append_many(events)
    except IntegrityError:
        # Another sweep stored some of them a moment ago: nothing is sent twice.
        return []
    ids = [row.pk for row in rows]
    transaction.on_commit(lambda: deliver(ids))
    return rows


def queue_one(
    *,
    patient: Patient | None,
    channel: str,
    kind: str,
    to: str,
    body: str,
    now: dt.datetime,
    status: str = OutboundMessage.Status.QUEUED,
    purpose: Purpose = Purpose.PATIENT_REQUEST,
    lock_screen_rule: bool = True,
) -> OutboundMessage:
    """One message (a reply to a text). ``status=sent`` when it goes back in the webhook
    answer itself (TwiML), not through a backend.

    ``lock_screen_rule=False`` only for the next question of a check-in the patient is
    answering by text (a reply to their own text, in the instrument's own words): it is
    still checked for scores and program names (``content.check_question``)."""
    names = forbidden_names(patient.organization_id if patient else None)
    if lock_screen_rule:
        content.check_body(body, names=names)
    else:
        content.check_question(body, names=names)
    with transaction.atomic():
        message = OutboundMessage.objects.create(
            organization_id=patient.organization_id if patient else None,
            patient=patient,
            channel=channel,
            kind=kind,
            to=to,
            body=body,
            status=status,
            created_at=now,
            sent_at=now if status == OutboundMessage.Status.SENT else None,
        )
        if patient is not None:
            _audit_write(patient, None, purpose=purpose)
    if status == OutboundMessage.Status.QUEUED:
        transaction.on_commit(lambda: deliver([message.pk]))
    return message


def deliver(ids: Iterable[int]) -> int:
    """Hand queued messages to their channel's backend; record what it said."""
    sent = 0
    messages = list(
        OutboundMessage.objects.filter(pk__in=list(ids), status=OutboundMessage.Status.QUEUED)
    )
    subscriptions = {
        str(s.pk): s
        for s in PushSubscription.objects.filter(
            pk__in=[m.to for m in messages if m.channel == Channel.PUSH and m.to.isdigit()]
        )
    }
    gone: list[int] = []
    prefix = content.link_prefix() if subscriptions else ""
    for message in messages:
        push = None
        if message.channel == Channel.PUSH:
            sub = subscriptions.get(message.to)
            push = PushTarget(sub.endpoint, sub.p256dh, sub.auth) if sub else None
        url = ""  # the push notification's target (a text carries its link in the body)
        if push is not None and message.kind in content.LINK_TARGETS and message.patient_id:
            url = content.make_link(patient_id=message.patient_id, kind=message.kind, prefix=prefix)
        try:
            result = backend_for(message.channel).send(
                to=message.to, body=message.body, url=url, push=push
            )
        except Exception:
            logger.exception("Outbound message %s could not be handed over", message.pk)
            continue
        message.status = result.status
        message.provider_id = result.provider_id
        message.error_code = result.error_code
        message.sent_at = timezone.now()
        if result.gone and push is not None:
            gone.append(int(message.to))
        sent += result.status == OutboundMessage.Status.SENT
    # Rows without a provider id (console, push, mail) are updated a status at a time;
    # only Twilio's rows carry one each.
    plain: dict[tuple[str, str], list[int]] = defaultdict(list)
    for message in messages:
        if not message.provider_id:
            plain[(message.status, message.error_code)].append(message.pk)
    stamp = timezone.now()
    for (status, error_code), pks in plain.items():
        for start in range(0, len(pks), 5000):
            OutboundMessage.objects.filter(pk__in=pks[start : start + 5000]).update(
                status=status, error_code=error_code, sent_at=stamp
            )
    OutboundMessage.objects.bulk_update(
        [m for m in messages if m.provider_id],
        ["status", "provider_id", "error_code", "sent_at"],
        batch_size=500,
    )
    if gone:
        PushSubscription.objects.filter(pk__in=gone).delete()  # expired (RFC 8030 §7.3)
    return sent


def delivery_status(*, message_sid: str, status: str, error_code: str = "") -> bool:
    """Twilio's status callback. Idempotent: the same status twice changes nothing.
    A failed text marks the number as failing (shown to staff); a delivered one clears it."""
    known = {s.value for s in OutboundMessage.Status}
    if status not in known:
        return False  # accepted, queued, sending ...: nothing to record
    with transaction.atomic():
        message = (
            OutboundMessage.objects.select_for_update(no_key=True)
            .filter(provider_id=message_sid, channel=Channel.SMS)
            .first()
        )
        if message is None or message.status == status:
            return False
        message.status = status
        message.error_code = error_code[:16]
        message.save(update_fields=["status", "error_code"])
        if message.patient_id is not None:
            failing = status in (OutboundMessage.Status.FAILED, OutboundMessage.Status.UNDELIVERED)
            prefs = ContactPreference.objects.filter(
                patient_id=message.patient_id, sms_phone=message.to
            )
            if failing:
                prefs.filter(sms_failing_since__isnull=True).update(
                    sms_failing_since=timezone.now()
                )
            elif status == OutboundMessage.Status.DELIVERED:
                prefs.update(sms_failing_since=None)
    return True


# --- Texts that arrive -----------------------------------------------------------


@dataclass(frozen=True)
class Handled:
    handling: str
    replies: list[str]


def _reply(
    patient: Patient | None,
    to: str,
    kind: str,
    body: str,
    now: dt.datetime,
    *,
    checked: bool = True,
) -> str:
    queue_one(
        patient=patient,
        channel=Channel.SMS,
        kind=kind,
        to=to,
        body=body,
        now=now,
        status=OutboundMessage.Status.SENT,  # goes back in the webhook's answer
        lock_screen_rule=checked,
    )
    return body


def _crisis_reply(patient: Patient, to: str, program: Program | None, now: dt.datetime) -> str:
    line = ""
    if program is not None and program.crisis_line:
        line = " " + gettext("Your program's line: %(line)s.") % {
            "line": display_phone(program.crisis_line)
        }
    return _reply(patient, to, Kind.CRISIS_NUMBERS, content.reply("crisis", line=line), now)


def sms_inbound(
    *, message_sid: str, from_number: str, body: str, now: dt.datetime | None = None
) -> Handled | None:
    """Handle one text, once per ``MessageSid`` (a replay returns None: no second reply).

    The keywords act on every patient with that number (a STOP stops all texts to it);
    anything else is read for the one patient the number belongs to, or answered
    neutrally and stored against no one (an unknown or shared number)."""
    now = now or timezone.now()
    text = (body or "").strip()
    try:
        number = parse_phone(from_number)
    except InvalidPhoneNumber:
        number = ""
    prefs = list(
        ContactPreference.objects.filter(sms_phone=number).select_related("patient")
        if number
        else []
    )
    keyword = text.upper().strip(" .!") if len(text) <= 20 else ""
    try:
        with transaction.atomic():
            inbound = InboundMessage.objects.create(
                message_sid=message_sid[:64],
                received_at=now,
                handling=InboundMessage.Handling.UNKNOWN,
            )
            return _handle(inbound, prefs, number, text, keyword, now)
    except IntegrityError:
        return None  # the same MessageSid again: already handled


def _handle(
    inbound: InboundMessage,
    prefs: list[ContactPreference],
    number: str,
    text: str,
    keyword: str,
    now: dt.datetime,
) -> Handled:
    patient = prefs[0].patient if len(prefs) == 1 else None
    if keyword in STOP_WORDS | START_WORDS | HELP_WORDS and prefs:
        return _keyword(inbound, prefs, number, keyword, now)
    if patient is None:
        # Unknown, or shared by two patients: nothing stored against anyone.
        inbound.save(update_fields=["handling"])
        return Handled(
            inbound.handling,
            [_reply(None, number, Kind.NEUTRAL_REPLY, content.reply("neutral"), now)],
        )
    inbound.patient = patient
    inbound.organization_id = patient.organization_id
    inbound.body = text[:MAX_STORED_REPLY]
    pref = prefs[0]
    replies: list[str] = []
    crisis = crisis_in(patient, text, message_sid=inbound.message_sid, now=now)
    if crisis.raised:
        inbound.handling = InboundMessage.Handling.CRISIS
        replies.append(_crisis_reply(patient, number, crisis.program, now))
    turn = answer_by_text(pref=pref, patient=patient, text=text, now=now)
    if turn is not None and crisis.raised and turn.clarify:
        turn.replies = []  # the crisis answer is what matters, not "we did not understand"
    if turn is not None:
        if inbound.handling != InboundMessage.Handling.CRISIS:
            inbound.handling = (
                InboundMessage.Handling.CHECKIN
                if turn.saved
                else InboundMessage.Handling.CLOSED
                if turn.closed
                else InboundMessage.Handling.CLARIFY
                if turn.clarify
                else InboundMessage.Handling.CHECKIN
            )
        if turn.risky and not replies:
            # An answer that raised a safety alert (PHQ-9 item 9 above 0): the urgent
            # request is already raised with the answer; the numbers go in this answer.
            replies.append(_crisis_reply(patient, number, crisis.program, now))
        for body in turn.replies:
            replies.append(_reply(patient, number, Kind.CHECKIN_QUESTION, body, now, checked=False))
        if turn.closed:
            replies.append(
                _reply(patient, number, Kind.CHECKIN_REPLY, content.reply("closed"), now)
            )
    elif not replies:
        inbound.handling = InboundMessage.Handling.CLOSED
        replies.append(_reply(patient, number, Kind.CHECKIN_REPLY, content.reply("not_read"), now))
    if pref.sms_stopped_at is not None:
        replies = []  # after STOP nothing is sent; the request to the team still stands
    inbound.save(update_fields=["patient", "organization", "body", "handling"])
    return Handled(inbound.handling, replies)


def _keyword(
    inbound: InboundMessage,
    prefs: list[ContactPreference],
    number: str,
    keyword: str,
    now: dt.datetime,
) -> Handled:
    inbound.handling = InboundMessage.Handling.KEYWORD
    if len(prefs) == 1:
        inbound.patient = prefs[0].patient
        inbound.organization_id = prefs[0].organization_id
    inbound.body = keyword
    inbound.save(update_fields=["patient", "organization", "body", "handling"])
    patient = inbound.patient
    if keyword in HELP_WORDS:
        return Handled(
            inbound.handling,
            [_reply(patient, number, Kind.KEYWORD_REPLY, content.reply("help"), now)],
        )
    stopping = keyword in STOP_WORDS
    changed = []
    for pref in (
        ContactPreference.objects.select_for_update(no_key=True)
        .filter(pk__in=[p.pk for p in prefs])
        .order_by("pk")
    ):
        if stopping and pref.sms_stopped_at is None:
            pref.sms_stopped_at = now
        elif not stopping and pref.sms_stopped_at is not None and pref.sms_opted_in_at:
            pref.sms_stopped_at = None
        else:
            continue
        pref.save(update_fields=["sms_stopped_at", "updated_at"])
        changed.append(pref)
        SmsConsentEvent.objects.create(
            organization_id=pref.organization_id,
            patient_id=pref.patient_id,
            phone=number,
            change=SmsConsentEvent.Change.OPT_OUT if stopping else SmsConsentEvent.Change.RESUME,
            method=SmsConsentEvent.Method.KEYWORD,
            keyword=keyword,
            occurred_at=now,
        )
        _audit_write(pref.patient, pref, actor=pref.patient.user, purpose=Purpose.PATIENT_REQUEST)
    if not changed:
        return Handled(inbound.handling, [])  # confirmed once already
    code = "stop" if stopping else "start"
    return Handled(
        inbound.handling, [_reply(patient, number, Kind.KEYWORD_REPLY, content.reply(code), now)]
    )


# --- Push subscriptions ----------------------------------------------------------


def push_subscribe(
    *, patient: Patient, actor: User, endpoint: str, p256dh: str, auth: str
) -> PushSubscription:
    with transaction.atomic():
        sub, _ = PushSubscription.objects.update_or_create(
            endpoint=endpoint,
            defaults={
                "organization_id": patient.organization_id,
                "patient": patient,
                "p256dh": p256dh,
                "auth": auth,
                "created_at": timezone.now(),
            },
        )
        _audit_write(patient, sub, actor=actor, purpose=Purpose.PATIENT_REQUEST)
    return sub


def push_unsubscribe(*, patient: Patient, actor: User, endpoint: str) -> int:
    with transaction.atomic():
        deleted, _ = PushSubscription.objects.filter(patient=patient, endpoint=endpoint).delete()
        if deleted:
            _audit_write(patient, None, actor=actor, purpose=Purpose.PATIENT_REQUEST)
    return deleted


# --- The demo's phone -------------------------------------------------------------


def demo_phone_on() -> bool:
    """The demo's phone page exists only in a demo (``TETHER_DEMO`` or ``DEBUG``) whose
    texts go nowhere (the console backend): there it stands in for the patient's phone."""
    return bool(
        (getattr(settings, "TETHER_DEMO", False) or settings.DEBUG)
        and settings.TETHER_SMS_BACKEND == "console"
    )


def daily_question_text(patient: Patient, *, now: dt.datetime | None = None) -> str | None:
    """Text the daily check-in's first question now (the demo's "text me now"; the sweep
    sends the same words at its hour). None when no daily check-in is open or texts are
    not allowed."""
    from tether.outreach.conversation import first_question

    now = now or timezone.now()
    pref = ContactPreference.objects.filter(patient=patient).first()
    if pref is None or not pref.sms_allowed or not pref.daily_checkin_by_text:
        return None
    body = first_question(patient, now=now)
    if body is None:
        return None
    queue_one(
        patient=patient,
        channel=Channel.SMS,
        kind=Kind.SMS_CHECKIN,
        to=pref.sms_phone,
        body=body,
        now=now,
        purpose=Purpose.TREATMENT,
    )
    return body


def demo_reply(*, patient: Patient, body: str) -> Handled | None:
    """A reply typed on the demo's phone page, handled exactly as a signed Twilio webhook
    is (``sms_inbound``: keywords, the check-in, crisis routing), from the patient's own
    number. The replies are stored in the outbox like TwiML answers."""
    import uuid

    pref = ContactPreference.objects.filter(patient=patient).first()
    if pref is None or not pref.sms_phone:
        return None
    return sms_inbound(message_sid=f"DEMO{uuid.uuid4().hex}", from_number=pref.sms_phone, body=body)
