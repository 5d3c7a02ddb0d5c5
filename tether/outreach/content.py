"""What a text, a push or a reminder e-mail may say: a lock screen is a shared screen.

Every outbound body is built here from a template per kind, and every body passes
``check_body`` before it is stored: no diagnosis, no score or questionnaire name, no
program type and no substance-use word, and none of the organization's program names.
A reminder carries a short-lived signed link (``/o/<token>/``) that still needs the
patient to sign in; the SMS check-in carries nothing clinical at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tether.outreach.models import Kind

LINK_SALT = "tether.outreach.link"

# Where a signed link leads after sign-in, by kind (never a record id in the link).
LINK_TARGETS: dict[str, str] = {
    Kind.CHECKIN_DUE: "portal:home",
    Kind.SESSION_TOMORROW: "scheduling:my_sessions",
    Kind.SESSION_SOON: "scheduling:my_sessions",
    Kind.HOMEWORK_DUE: "homework:patient_list",
    Kind.CARE_TEAM_MESSAGE: "messaging:thread",
}

TEMPLATES: dict[str, Promise] = {
    Kind.CHECKIN_DUE: _("%(brand)s: You have a check-in waiting: %(link)s"),
    Kind.SESSION_TOMORROW: _(
        "%(brand)s: Reminder, you have an appointment tomorrow at %(time)s. %(link)s"
    ),
    Kind.SESSION_SOON: _(
        "%(brand)s: Reminder, you have an appointment today at %(time)s. %(link)s"
    ),
    Kind.HOMEWORK_DUE: _("%(brand)s: You have something to finish by %(day)s: %(link)s"),
    Kind.CARE_TEAM_MESSAGE: _("%(brand)s: You have a new message: %(link)s"),
    # The daily question itself is the instrument's first item (conversation.py).
    Kind.SMS_MEASURE: _(
        "%(brand)s: You have a few questions waiting. Reply with any word to answer them "
        "here by text, one at a time. Reply STOP to stop texts."
    ),
}

REPLIES: dict[str, Promise] = {
    "saved": _("%(brand)s: Thank you, your answer is saved."),
    "clarify": _(
        "%(brand)s: Sorry, we did not understand. Please reply with one number from 0 to 10."
    ),
    "closed": _(
        "%(brand)s: There is no check-in open to answer right now, so nothing was saved. "
        "Thank you. In a crisis, call or text 988."
    ),
    "not_read": _(
        "%(brand)s: Texts to this number are not read by a person. Please use the app to "
        "write to your team. In a crisis, call or text 988."
    ),
    "crisis": _(
        "%(brand)s: Your team has been told and will contact you. If you are in danger now, "
        "call 911. Call or text 988 any time.%(line)s"
    ),
    "stop": _("%(brand)s: You will get no more texts from us. Reply START to get them again."),
    "start": _("%(brand)s: Texts are on again. Reply HELP for help, STOP to stop."),
    "help": _(
        "%(brand)s reminders. Help: %(phone)s. In a crisis, call or text 988. "
        "Msg & data rates may apply. Reply STOP to stop."
    ),
    "neutral": _("This number does not take messages. In a crisis, call or text 988."),
}

# Words that must never reach a lock screen. Whole words, case-insensitive; a stem
# ending in "*" matches any ending ("suicid*": suicide, suicidal).
FORBIDDEN_WORDS: tuple[str, ...] = (
    # Diagnoses and symptoms.
    "depress*",
    "anxiety",
    "anxious",
    "bipolar",
    "schizo*",
    "psychos*",
    "psychotic",
    "ptsd",
    "trauma*",
    "ocd",
    "adhd",
    "anorexia",
    "bulimi*",
    "eating disorder",
    "suicid*",
    "self-harm",
    "self harm",
    "disorder",
    "diagnos*",
    "panic",
    # Scores and questionnaires.
    "phq*",
    "gad*",
    "score*",
    "audit-c",
    "severe",
    "moderate",
    "mild",
    "risk",
    # Program types and settings of care.
    "iop",
    "php",
    "intensive outpatient",
    "partial hospitali*",
    "outpatient",
    "inpatient",
    "behavioral",
    "behavioural",
    "mental",
    "psychiatr*",
    "therap*",
    "counsel*",
    "clinic",
    "treatment",
    "rehab*",
    "detox*",
    "adolescent",
    # Substance use.
    "substance*",
    "alcohol*",
    "drink*",
    "drug*",
    "opioid*",
    "opiate*",
    "heroin",
    "fentanyl",
    "cocaine",
    "meth",
    "methamphetamine",
    "cannabis",
    "marijuana",
    "sober*",
    "sobriety",
    "relapse*",
    "craving*",
    "addict*",
    "recovery",
    "suboxone",
    "buprenorphine",
    "naloxone",
    "narcan",
    "methadone",
    "aa",
    "na",
    "part 2",
    "sud",
)


def _pattern(words: Iterable[str]) -> re.Pattern[str]:
    parts = []
    for word in words:
        stem = re.escape(word.rstrip("*")).replace(r"\ ", r"[\s-]+")
        parts.append(rf"\b{stem}\w*\b" if word.endswith("*") else rf"\b{stem}\b")
    return re.compile("|".join(parts), re.IGNORECASE)


_FORBIDDEN = _pattern(FORBIDDEN_WORDS)
_URL = re.compile(r"https?://\S+")
_RESULT_WORDS = _pattern(("score*", "phq*", "gad*", "diagnos*", "iop", "php"))
_SCORE = re.compile(r"\b\d{1,2}\s*/\s*(?:21|27|40)\b")


class UnsafeContent(ValueError):
    """A body that would say something clinical on a lock screen."""


def problems(body: str, *, names: Iterable[str] = ()) -> list[str]:
    """What is wrong with ``body`` (empty: nothing). ``names``: program and other names
    that must not appear (checked as whole phrases)."""
    text = _URL.sub(" ", body)  # a signed token is random letters, not words
    found = [m.group(0) for m in _FORBIDDEN.finditer(text)]
    found += [m.group(0) for m in _SCORE.finditer(text)]
    for name in names:
        if name.strip() and re.search(rf"\b{re.escape(name.strip())}\b", text, re.IGNORECASE):
            found.append(name)
    return found


def check_question(body: str, *, names: Iterable[str] = ()) -> str:
    """The next question of a check-in answered by text (a reply to the patient's own
    text, in the instrument's own words, which may name a symptom or a substance): never
    a score, a result or a program's name."""
    text = _URL.sub(" ", body)
    found = [m.group(0) for m in _SCORE.finditer(text)]
    found += [
        name
        for name in names
        if name.strip() and re.search(rf"\b{re.escape(name.strip())}\b", text, re.IGNORECASE)
    ]
    found += [m.group(0) for m in _RESULT_WORDS.finditer(text)]
    if found:
        raise UnsafeContent(f"{len(found)} forbidden word(s) in a question by text")
    return body


def check_body(body: str, *, names: Iterable[str] = ()) -> str:
    found = problems(body, names=names)
    if found:
        # Codes only in the error: the body itself never reaches a log.
        raise UnsafeContent(f"{len(found)} forbidden word(s) in an outbound body")
    return body


@dataclass(frozen=True)
class LinkTarget:
    patient_id: int
    kind: str


def link_prefix() -> str:
    """The link's URL up to its token (``https://host/o/``): resolved once per sweep, not
    once per message (``reverse`` costs more than the signature)."""
    placeholder = reverse("outreach:link", args=["-"])
    return settings.TETHER_PUBLIC_BASE_URL + placeholder[: -len("-/")]


def make_link(*, patient_id: int, kind: str, prefix: str | None = None) -> str:
    token = signing.dumps({"p": patient_id, "k": kind}, salt=LINK_SALT, compress=True)
    return (prefix if prefix is not None else link_prefix()) + token + "/"


def read_link(token: str) -> LinkTarget | None:
    """The link's patient and kind, or None when forged or older than the setting."""
    try:
        data = signing.loads(
            token, salt=LINK_SALT, max_age=settings.TETHER_OUTREACH_LINK_MINUTES * 60
        )
    except signing.BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("k") not in LINK_TARGETS:
        return None
    try:
        return LinkTarget(int(data["p"]), str(data["k"]))
    except (KeyError, TypeError, ValueError):
        return None


def render(kind: str, **values: str) -> str:
    return gettext(str(TEMPLATES[kind])) % {"brand": settings.TETHER_SMS_BRAND, **values}


def reply(code: str, **values: str) -> str:
    defaults = {
        "brand": settings.TETHER_SMS_BRAND,
        "phone": settings.TETHER_SMS_HELP_PHONE or "988",
        "line": "",
    }
    return gettext(str(REPLIES[code])) % {**defaults, **values}
