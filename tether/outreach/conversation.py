"""A check-in answered by text, one question per message, through the web flow's own
services (``tether.checkins.services``: ``response_start``, ``answer_save``,
``response_submit``), so a texted check-in is the same response, scored and flagged
exactly as one filled in on the page.

The state of the conversation is the check-in itself: the question asked is the first
item of the draft (``ContactPreference.text_response``) that has no answer yet. A reply
is read leniently for that item (``parse_number``); anything else is asked again once
(``text_clarified_item``), then left. The last answer submits the response.

The wording of every question is the instrument's own (its definition file; the daily
check-in through the catalogue, a validated measure in its published English only:
``tether/checkins/languages.py``), with a short "Reply with a number" line. Questions are
only ever sent as replies to the patient's own texts; the first text of the day asks the
daily check-in's first item (mood), which passes the lock-screen rule, and a
questionnaire is first offered by a neutral text (``Kind.SMS_MEASURE``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext

from tether.checkins import engine
from tether.checkins.languages import OWN_WORDING
from tether.checkins.models import Answer, Response
from tether.checkins.selectors import Due, current_episode, due_for, program_flags
from tether.checkins.services import (
    MissingAnswers,
    ResponseClosed,
    ResponseExpired,
    answer_save,
    items_for,
    response_start,
    response_submit,
)
from tether.outreach.models import ContactPreference
from tether.patients.models import Episode, Patient

DAILY = "daily"
MEASURES = frozenset({"phq9", "gad7"})
SKIP_WORDS = frozenset({"skip", "no", "none", "nothing", "n/a", "-"})
MAX_REPLY = 160

_WORD_NUMBERS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip
_OUT_OF = re.compile(r"(\d+)\s*(?:/|out of|of)\s*(\d+)\b", re.IGNORECASE)
_INTEGER = re.compile(r"(?<![\d.,])\d+(?![\d.,]\d)")


def parse_number(
    text: str, *, minimum: int, maximum: int, labels: dict[str, int] | None = None
) -> int | None:
    """One answer from ``minimum`` to ``maximum`` in a reply: "7", "7/10", "seven",
    "I'm a 7", or an option's own label ("several days"). None when there is no single
    clear value in range."""
    if len(text) > MAX_REPLY:
        return None
    lowered = " ".join(text.lower().split())
    named = [
        (label, v) for label, v in (labels or {}).items() if label and label.lower() in lowered
    ]
    if named:
        # "Not at all" is inside "Not difficult at all": the longest label wins.
        return max(named, key=lambda pair: len(pair[0]))[1]
    out_of = [int(a) for a, _b in _OUT_OF.findall(text)]
    numbers = out_of or [int(n) for n in _INTEGER.findall(text)]
    words = [_WORD_NUMBERS[w] for w in re.findall(r"[a-z]+", lowered) if w in _WORD_NUMBERS]
    found = set(numbers + words)
    if len(found) != 1:
        return None
    value = found.pop()
    return value if minimum <= value <= maximum else None


def _words(code: str, text: str) -> str:
    return gettext(text) if code in OWN_WORDING and text else text


def question(response_or_code: Response | str, item: engine.Item, *, number: int, of: int) -> str:
    """The text that asks ``item``: its own wording and how to answer."""
    code = (
        response_or_code if isinstance(response_or_code, str) else response_or_code.instrument.code
    )
    words = _words(code, item.text)
    if item.kind == "scale":
        how = gettext("Reply with a number from %(min)s (%(low)s) to %(max)s (%(high)s).") % {
            "min": item.minimum,
            "max": item.maximum,
            "low": _words(code, item.low_label),
            "high": _words(code, item.high_label),
        }
    elif item.kind == "choice":
        how = gettext("Reply with a number: %(options)s.") % {
            "options": ", ".join(f"{o.value} = {_words(code, o.label)}" for o in item.options)
        }
    else:
        how = gettext("Reply with your words, or SKIP.")
    if code in MEASURES:
        prefix = gettext("Question %(number)s of %(of)s:") % {"number": number, "of": of}
        return f"{settings.TETHER_SMS_BRAND}: {prefix} {words} {how}"
    return f"{settings.TETHER_SMS_BRAND}: {words} {how}"


def stem_of(response: Response) -> str:
    return response.instrument.spec.stem


def _item_value(item: engine.Item, text: str) -> str | None:
    """The raw answer the web form would post for this reply, or None (not understood)."""
    if item.kind == "text":
        cleaned = text.strip()
        if cleaned.lower() in SKIP_WORDS:
            return ""
        return cleaned[: item.max_length] if cleaned else None
    labels = {o.label: o.value for o in item.options} if item.kind == "choice" else None
    lo, hi = (min(item.values), max(item.values)) if item.values else (0, 0)
    value = parse_number(text, minimum=lo, maximum=hi, labels=labels)
    if value is None or value not in item.values:
        return None
    return str(value)


@dataclass
class Turn:
    """What a reply did: the texts to send back, whether it was saved, whether an
    answer raised a safety alert (then the crisis numbers go in the same answer)."""

    replies: list[str] = field(default_factory=list)
    saved: bool = False
    closed: bool = False
    clarify: bool = False
    risky: bool = False


def _open(pref: ContactPreference, now: dt.datetime) -> Response | None:
    response = pref.text_response
    if response is None:
        return None
    if response.status != Response.Status.DRAFT or response.expires_at <= now:
        return None
    return response


def _unanswered(response: Response) -> list[engine.Item]:
    answered = set(Answer.objects.filter(response=response).values_list("item_code", flat=True))
    return [item for item in items_for(response) if item.code not in answered]


def _due(patient: Patient, now: dt.datetime, code: str) -> tuple[Due | None, Episode | None]:
    episode = current_episode(patient=patient)
    if episode is None:
        return None, None
    due = next(
        (
            d
            for d in due_for(patient=patient, episode=episode, now=now)
            if d.instrument.code == code
        ),
        None,
    )
    return due, episode


def _start(patient: Patient, code: str, now: dt.datetime) -> Response | None:
    due, episode = _due(patient, now, code)
    if due is None or episode is None or patient.user is None:
        return None
    return due.draft or response_start(
        actor=patient.user, patient=patient, episode=episode, due=due
    )


def _remember(pref: ContactPreference, response: Response | None, clarified: str = "") -> None:
    pref.text_response = response
    pref.text_clarified_item = clarified
    if response is not None and response.instrument.code == pref.text_offer:
        pref.text_offer = ""
    pref.save(update_fields=["text_response", "text_clarified_item", "text_offer", "updated_at"])


def _ask_next(pref: ContactPreference, response: Response, turn: Turn) -> Turn:
    left = _unanswered(response)
    if left:
        items = items_for(response)
        item = left[0]
        turn.replies.append(question(response, item, number=items.index(item) + 1, of=len(items)))
        _remember(pref, response)
        return turn
    try:
        response_submit(actor=pref.patient.user, response=response)  # type: ignore[arg-type]
    except (ResponseExpired, MissingAnswers):
        turn.closed = True
    _remember(pref, None)
    turn.replies.append(
        gettext("%(brand)s: Thank you, your answers are saved and your team can see them.")
        % {"brand": settings.TETHER_SMS_BRAND}
    )
    return turn


def answer_by_text(
    *, pref: ContactPreference, patient: Patient, text: str, now: dt.datetime
) -> Turn | None:
    """Read a reply as the answer to the question asked (or start the check-in it is
    for). None: the patient does not answer check-ins by text."""
    if not pref.daily_checkin_by_text or patient.user is None:
        return None
    turn = Turn()
    with transaction.atomic():
        response = _open(pref, now)
        if response is None and pref.text_response_id is not None:
            # Asked by text, and it has closed since (sent on the web, or the day ended).
            _remember(pref, None)
            if pref.text_offer == "" and not _due(patient, now, DAILY)[0]:
                turn.closed = True
                return turn
        if response is None and pref.text_offer:
            # A questionnaire offered by text: any reply starts it with its first item.
            response = _start(patient, pref.text_offer, now)
            if response is not None:
                stem = stem_of(response)
                if stem:
                    turn.replies.append(f"{settings.TETHER_SMS_BRAND}: {stem}")
                return _ask_next(pref, response, turn)
            pref.text_offer = ""
            pref.save(update_fields=["text_offer", "updated_at"])
        if response is None:
            response = _start(patient, DAILY, now)
        if response is None:
            turn.closed = True
            return turn
        left = _unanswered(response)
        if not left:
            return _ask_next(pref, response, turn)
        item = left[0]
        raw = _item_value(item, text)
        if raw is None:
            turn.clarify = True
            if pref.text_clarified_item != item.code:  # asked again once, not an argument
                items = items_for(response)
                turn.replies.append(
                    gettext("%(brand)s: Sorry, we did not understand.")
                    % {"brand": settings.TETHER_SMS_BRAND}
                    + " "
                    + question(response, item, number=items.index(item) + 1, of=len(items)).split(
                        ": ", 1
                    )[-1]
                )
            _remember(pref, response, clarified=item.code)
            return turn
        try:
            saved = answer_save(actor=patient.user, response=response, item=item, raw=raw)
        except (ResponseClosed, ResponseExpired):
            _remember(pref, None)
            turn.closed = True
            return turn
        except engine.InvalidAnswer:
            turn.clarify = True
            return turn
        turn.saved = True
        turn.risky = bool(saved.alerts)
        return _ask_next(pref, response, turn)


def first_question(patient: Patient, *, now: dt.datetime) -> str | None:
    """The daily check-in's first question, in its own words, when the daily check-in is
    open and not started; checked against the lock-screen rule (it is not a reply)."""
    due, episode = _due(patient, now, DAILY)
    if due is None or episode is None:
        return None
    if due.draft is not None and Answer.objects.filter(response=due.draft).exists():
        return None
    items = due.instrument.spec.items_for(program_flags(episode))
    if not items:
        return None
    return (
        question(DAILY, items[0], number=1, of=len(items))
        + " "
        + gettext("Reply STOP to stop texts.")
    )
