"""Reading threads: the clinician inbox, response-time figures, the patient's summary."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, F, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from tether.crisis.models import UrgentContactRequest
from tether.crisis.selectors import open_request_for
from tether.lib import statements
from tether.messaging.models import Message, Thread
from tether.patients.models import Episode, Patient
from tether.privacy.policy import Category

if TYPE_CHECKING:
    from tether.accounts.models import User


@dataclass(frozen=True)
class InboxRow:
    thread: Thread
    program_name: str
    unread: bool
    overdue: bool
    due_at: dt.datetime | None
    # What the row is a record of: ``shared``, or ``part2`` when the thread holds Part 2
    # messages or new ones would be (a program that treats substance use).
    category: Category = Category.SHARED


def inbox(*, patients: QuerySet[Patient], now: dt.datetime | None = None) -> list[InboxRow]:
    """Threads of these patients: unread or overdue first, then the most recent.

    Three queries whatever the number of threads.
    """
    now = now or timezone.now()
    threads = list(
        Thread.objects.filter(patient__in=patients, last_message_at__isnull=False)
        .annotate(
            holds_part2=Exists(
                Message.objects.filter(thread=OuterRef("pk"), record_category=Category.PART2)
            )
        )
        .select_related("patient")
        .order_by(F("last_message_at").desc(nulls_last=True))[:200]
    )
    episodes = Episode.objects.filter(
        patient_id__in=[t.patient_id for t in threads], status=Episode.Status.ACTIVE
    ).select_related("program")
    program_by_patient = {e.patient_id: e.program for e in episodes}
    rows = []
    for thread in threads:
        program = program_by_patient.get(thread.patient_id)
        due_at = (
            thread.awaiting_reply_since + dt.timedelta(hours=program.message_response_hours)
            if thread.awaiting_reply_since is not None and program is not None
            else None
        )
        rows.append(
            InboxRow(
                thread=thread,
                program_name=program.name if program else "",
                unread=thread.unread_by_team,
                overdue=due_at is not None and due_at < now,
                due_at=due_at,
                category=Category.PART2
                if thread.holds_part2 or (program is not None and program.treats_substance_use)
                else Category.SHARED,
            )
        )
    rows.sort(key=lambda r: (not r.overdue, not r.unread))  # stable: recent first within
    return rows


@dataclass(frozen=True)
class ResponseFigure:
    who: str
    replies: int
    median_hours: float
    within_target: int  # replies inside the program's response time


@dataclass(frozen=True)
class ResponseTimes:
    overall: ResponseFigure | None
    per_program: list[ResponseFigure]
    per_clinician: list[ResponseFigure]


def response_times(
    *, patients: QuerySet[Patient], since: dt.datetime, target_hours: int = 48
) -> ResponseTimes:
    """Median time to answer a patient: overall, per program and per clinician (one query)."""
    program_name = Subquery(
        Episode.objects.filter(patient=OuterRef("thread__patient"), status=Episode.Status.ACTIVE)
        .order_by("-admitted_on")
        .values("program__name")[:1]
    )
    replies = list(
        Message.objects.filter(
            thread__patient__in=patients,
            author_kind=Message.AuthorKind.STAFF,
            response_seconds__isnull=False,
            created_at__gte=since,
        )
        .annotate(program_name=program_name)
        .values("response_seconds", "program_name", "author__first_name", "author__last_name")
    )
    if not replies:
        return ResponseTimes(None, [], [])

    def figure(who: str, seconds: list[int]) -> ResponseFigure:
        return ResponseFigure(
            who=who,
            replies=len(seconds),
            median_hours=round(statistics.median(seconds) / 3600, 1),
            within_target=sum(1 for s in seconds if s <= target_hours * 3600),
        )

    by_author: dict[str, list[int]] = {}
    by_program: dict[str, list[int]] = {}
    for reply in replies:
        seconds = int(reply["response_seconds"] or 0)
        name = f"{reply['author__first_name']} {reply['author__last_name']}".strip()
        by_author.setdefault(name, []).append(seconds)
        by_program.setdefault(reply["program_name"] or _("Discharged"), []).append(seconds)
    return ResponseTimes(
        overall=figure(_("Everyone"), [int(r["response_seconds"] or 0) for r in replies]),
        per_program=[figure(name, secs) for name, secs in sorted(by_program.items())],
        per_clinician=[figure(name, secs) for name, secs in sorted(by_author.items())],
    )


def trigger_message(urgent: UrgentContactRequest) -> Message | None:
    """The message that raised this request (the first with a trigger), if any."""
    return (
        urgent.messages.filter(
            author_kind__in=(Message.AuthorKind.PATIENT, Message.AuthorKind.PROXY)
        )
        .exclude(trigger="")
        .order_by("created_at")
        .first()
    )


def trigger_for_request(
    urgent: UrgentContactRequest,
    *,
    message: Message | None = None,
    readable: frozenset[str] | None = None,
) -> str:
    """Why a message raised this request, in words for staff.

    ``readable``: the record categories the reader may see (the gate's answer); the crisis
    phrase is quoted only when the message's category is among them. Otherwise the words
    are withheld and the text says why (a Part 2 message), never that there were none.
    """
    message = message if message is not None else trigger_message(urgent)
    if message is None:
        return ""
    family = message.author_kind == Message.AuthorKind.PROXY
    if message.trigger == Message.Trigger.PHRASE:
        if readable is not None and message.record_category not in readable:
            return _(
                "Crisis language in a message. The words are not shown to you: the message "
                "is a substance-use treatment record (42 CFR Part 2), which only the "
                "patient's care team may read. In an emergency, use emergency access."
            )
        if family:
            return _("Crisis language in a family member's message: “%(phrase)s”") % {
                "phrase": message.trigger_phrase
            }
        return _("Crisis language in a message: “%(phrase)s”") % {"phrase": message.trigger_phrase}
    if family:
        return _("A family member marked a message as urgent")
    return _("The patient marked a message as urgent")


@dataclass(frozen=True)
class PatientSummary:
    unread_replies: bool
    open_request_id: int | None


def _summary_row(values: Mapping[str, Any]) -> QuerySet[Any, Any]:
    thread = Thread.objects.filter(patient_id=OuterRef("pk"), kind=Thread.Kind.PATIENT)
    return (
        Patient.objects.filter(pk=values["patient"])
        .annotate(
            last_team_message_at=Subquery(thread.values("last_team_message_at")[:1]),
            patient_read_at=Subquery(thread.values("patient_read_at")[:1]),
            # As ``crisis.selectors.open_request_for``: the first not closed.
            open_request_id=Subquery(
                UrgentContactRequest.objects.filter(patient_id=OuterRef("pk"))
                .exclude(status=UrgentContactRequest.Status.CLOSED)
                .order_by("pk")
                .values("pk")[:1]
            ),
        )
        .values_list("last_team_message_at", "patient_read_at", "open_request_id")
    )


def patient_summary(*, patient: Patient) -> PatientSummary:
    """For the patient's home page: new replies, and an open urgent request. One
    statement, compiled once per process (tether.lib.statements)."""
    found = statements.rows("messaging.patient_summary", _summary_row, {"patient": patient.pk})
    last_team, read_at, open_request_id = found[0] if found else (None, None, None)
    return PatientSummary(
        # As ``Thread.unread_by_patient``.
        unread_replies=last_team is not None and (read_at is None or read_at < last_team),
        open_request_id=open_request_id,
    )


def thread_messages(thread: Thread) -> list[Message]:
    return list(thread.messages.select_related("author__staff_member"))


def staff_category_for(thread: Thread) -> Category:
    """What staff ask the gate to read or answer a thread: the care team's ``shared``,
    or ``part2`` when any message in it is labelled Part 2 (or new ones would be)."""
    from tether.messaging.services import category_for

    if category_for(thread) == Category.PART2:
        return Category.PART2
    if thread.messages.filter(record_category=Category.PART2).exists():
        return Category.PART2
    return Category.SHARED


def staff_thread_for(user: User, thread_id: int) -> Thread | None:
    return (
        Thread.objects.filter(pk=thread_id, organization_id=user.organization_id or 0)
        .select_related("patient")
        .first()
    )


def staff_reach_summary(*, user: User, patient: Patient) -> dict[str, object] | None:
    """For the staff patient page: messages and crisis-pathway use, if the user may see
    ``shared`` records. The linked pages ask the gate again (audited)."""
    from tether.crisis.selectors import crisis_pathway_use_count
    from tether.privacy.gate import decide
    from tether.privacy.policy import Action, Category

    if not decide(user, patient, category=Category.SHARED, action=Action.VIEW).allowed:
        return None
    thread = Thread.objects.filter(patient=patient, kind=Thread.Kind.PATIENT).first()
    family_thread = Thread.objects.filter(patient=patient, kind=Thread.Kind.FAMILY).first()
    return {
        "thread": thread,
        "family_thread": family_thread,
        "unread": bool(thread and thread.unread_by_team),
        "open_request": open_request_for(patient_id=patient.pk),
        "crisis_uses_30_days": crisis_pathway_use_count(
            patient_id=patient.pk, since=timezone.now() - dt.timedelta(days=30)
        ),
        "crisis_uses": crisis_pathway_use_count(patient_id=patient.pk),
    }


def latest_patient_lines(*, patient: Patient, include_part2: bool, limit: int = 3) -> list[Message]:
    """The patient's latest messages to the care team, newest first (the pre-session
    review). The caller has asked the gate for ``shared`` (and audited the look);
    ``include_part2`` is the gate's decision for the patient's Part 2 record."""
    from tether.privacy.policy import Category

    rows = Message.objects.filter(
        thread__patient=patient,
        thread__kind=Thread.Kind.PATIENT,
        author_kind=Message.AuthorKind.PATIENT,
    )
    if not include_part2:
        rows = rows.exclude(record_category=Category.PART2)
    return list(rows.order_by("-created_at", "-pk")[:limit])
